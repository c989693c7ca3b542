//! `/v1/orgs/{org}/usage…`: data-plane usage in, reports, the rate card and a month's bill.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use super::extract::{Body, Caller, PathArgs, QueryArgs};
use super::{AppState, blocking, read};
use crate::model::{
    Bill, Problem, RateCard, RateCardUpdate, UsageBatch, UsageBatchResult, UsagePoint, UsageQuery,
};

type ApiResult<T> = Result<T, ApiError>;

/// The largest body of `POST …/usage/records` (a batch of up to 10,000 records).
pub const RECORDS_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// `GET /v1/orgs/{org}/usage` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// One tenant; every tenant the caller may read when absent.
    pub tenant: Option<String>,
    /// First day, YYYY-MM-DD (UTC), inclusive.
    pub from: String,
    /// Last day, YYYY-MM-DD (UTC), inclusive.
    pub to: String,
    /// One metric.
    pub metric: Option<String>,
    /// `day` (default) or `month`.
    pub by: Option<String>,
}

/// `GET /v1/orgs/{org}/usage/billing` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BillQuery {
    /// YYYY-MM.
    pub month: String,
    /// One tenant.
    pub tenant: Option<String>,
}

/// `POST /v1/orgs/{org}/usage/records`: a batch of data-plane usage, idempotent per
/// `batch_id`. Bad records are listed by index with the reason and the rest recorded; with
/// `atomic`, one bad record refuses the batch (422) and nothing is recorded.
#[utoipa::path(post, path = "/v1/orgs/{org}/usage/records", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path)), request_body = UsageBatch,
    responses((status = 200, body = UsageBatchResult), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "the batch id was recorded with other records"), (status = 413, body = Problem), (status = 422, body = Problem, description = "an atomic batch with bad records: nothing was recorded")))]
pub async fn record_usage(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(batch): Body<UsageBatch>,
) -> ApiResult<Json<UsageBatchResult>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let atomic = batch.atomic;
    // A bad id or an oversized batch is a bad request (400), atomic or not; what is refused
    // after that, in an atomic batch, is its records (422).
    crate::control::usage::check_batch(&batch)?;
    blocking(move || {
        cp.record_usage(&batch, now).map_err(|e| {
            let invalid = matches!(e, crate::control::ControlError::Invalid(_));
            let err = ApiError::from(e);
            if atomic && invalid {
                err.unprocessable()
            } else {
                err
            }
        })
    })
    .await
    .map(Json)
}

/// `GET /v1/orgs/{org}/usage`: `{tenant, period, metric, value}` by day or month.
#[utoipa::path(get, path = "/v1/orgs/{org}/usage", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path), ReportQuery),
    responses((status = 200, body = Vec<UsagePoint>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn usage_report(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ReportQuery>,
) -> ApiResult<Json<Vec<UsagePoint>>> {
    let cp = st.plane(&caller, &org)?;
    let q = UsageQuery {
        tenant: q.tenant,
        from: q.from,
        to: q.to,
        metric: q.metric,
        by: q.by,
    };
    // A range scan, not a point read: off the async workers.
    blocking(move || Ok(cp.usage_report(&q)?)).await.map(Json)
}

/// `GET /v1/orgs/{org}/usage/billing`: the month's usage × the rate card.
#[utoipa::path(get, path = "/v1/orgs/{org}/usage/billing", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path), BillQuery),
    responses((status = 200, body = Bill), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn usage_billing(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<BillQuery>,
) -> ApiResult<Json<Bill>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.usage_bill(&q.month, q.tenant.as_deref(), now)?))
        .await
        .map(Json)
}

/// `GET /v1/orgs/{org}/usage/rates`: the rate card.
#[utoipa::path(get, path = "/v1/orgs/{org}/usage/rates", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path)),
    responses((status = 200, body = RateCard), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_rates(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
) -> ApiResult<Json<RateCard>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.rate_card()?)).map(Json)
}

/// `PATCH /v1/orgs/{org}/usage/rates`: change the currency and prices, all or nothing.
#[utoipa::path(patch, path = "/v1/orgs/{org}/usage/rates", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path)), request_body = RateCardUpdate,
    responses((status = 200, body = RateCard), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update_rates(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(update): Body<RateCardUpdate>,
) -> ApiResult<Json<RateCard>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.update_rate_card(&update, now)?))
        .await
        .map(Json)
}

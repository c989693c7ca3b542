//! `/v1/orgs/{org}/usage…`.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{
    Bill, RateCard, RateCardUpdate, UsageBatch, UsageBatchResult, UsagePoint, UsageQuery,
};

pub(super) fn record(c: &Client, batch: &UsageBatch) -> Result<UsageBatchResult> {
    let path = c.org_url(&["usage", "records"])?;
    // The batch id makes a repeat harmless: the server answers it with the first result.
    c.call(Method::POST, &refs(&path), &[], Some(batch), Retry::Safe)
}

pub(super) fn report(c: &Client, q: &UsageQuery) -> Result<Vec<UsagePoint>> {
    let path = c.org_url(&["usage"])?;
    let query: Vec<(&str, String)> = [
        ("tenant", q.tenant.clone()),
        ("from", Some(q.from.clone())),
        ("to", Some(q.to.clone())),
        ("metric", q.metric.clone()),
        ("by", q.by.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    c.call(Method::GET, &refs(&path), &query, None::<&()>, Retry::Safe)
}

pub(super) fn bill(c: &Client, month: &str, tenant: Option<&str>) -> Result<Bill> {
    let path = c.org_url(&["usage", "billing"])?;
    let mut query = vec![("month", month.to_string())];
    if let Some(t) = tenant {
        query.push(("tenant", t.to_string()));
    }
    c.call(Method::GET, &refs(&path), &query, None::<&()>, Retry::Safe)
}

pub(super) fn rates(c: &Client) -> Result<RateCard> {
    let path = c.org_url(&["usage", "rates"])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn update_rates(c: &Client, update: &RateCardUpdate) -> Result<RateCard> {
    let path = c.org_url(&["usage", "rates"])?;
    // Setting the same prices again changes nothing: safe to repeat.
    c.call(Method::PATCH, &refs(&path), &[], Some(update), Retry::Safe)
}

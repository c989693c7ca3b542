//! The `/v1` handlers: each extracts, calls the control plane (on a blocking thread:
//! SQLite and Argon2 are synchronous), and maps the answer. Nothing else.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use super::extract::{Body, Caller, IntrospectBody, PathArgs, QueryArgs, Source};
use super::{AppState, blocking, read};
use crate::control::auth;
use crate::control::{PrincipalKind, Store};
use crate::duration::parse_instant;
use crate::model::{
    ApiKey, AuditEntry, AuthRequest, BrokerConfig, CreateApiKey, CreateAppToken, CreateInstance,
    CreateRole, CreateServiceAccount, CreateTenant, CreateToken, CreateUser, Deleted, Health,
    Instance, IntrospectRequest, Introspection, Org, OrgUpdate, Page, Problem, PublicKey,
    RevocationFeed, Role, RoleDeleted, RoleGranted, Rotation, ServiceAccount,
    ServiceAccountDeleted, Session, SetPassword, Tenant, Token, UpdateRole, User, UserUpdate,
    WhoAmI,
};

type ApiResult<T> = Result<T, ApiError>;

/// Paging and filters for lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page, 1-1000 [default: 100].
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Tenants: only those on this instance.
    pub instance: Option<String>,
    /// Audit: records at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Tokens: `streaming` or `application`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}

/// `?force=true` on role delete.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForceQuery {
    /// Delete the role even while users or tokens hold it (they lose it).
    #[serde(default)]
    pub force: bool,
}

/// `?cascade=true` on instance delete.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete the instance's tenants and their tokens.
    #[serde(default)]
    pub cascade: bool,
}

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// One page of `items`, in the order of `key`, after the cursor.
fn paginate<T>(mut items: Vec<T>, key: impl Fn(&T) -> String, q: &ListQuery) -> ApiResult<Page<T>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is out of range: use 1 to {MAX_LIMIT}"
        ))
        .with_field("limit"));
    }
    let after = match &q.cursor {
        Some(c) => Some(
            crate::jwt::B64URL
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    ApiError::bad_request("the cursor is not one this server issued")
                        .with_field("cursor")
                })?,
        ),
        None => None,
    };
    items.sort_by_key(|i| key(i));
    let mut page: Vec<T> = items
        .into_iter()
        .filter(|i| after.as_ref().is_none_or(|a| key(i) > *a))
        .take(limit as usize + 1)
        .collect();
    let next_cursor = if page.len() > limit as usize {
        page.truncate(limit as usize);
        page.last().map(|i| crate::jwt::B64URL.encode(key(i)))
    } else {
        None
    };
    Ok(Page {
        items: page,
        next_cursor,
    })
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// `GET /readyz`: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(st): State<AppState>) -> ApiResult<Json<Health>> {
    read(|| st.store.read(|tx| tx.orgs()).map_err(ApiError::from))?;
    Ok(Json(Health {
        status: "ready".into(),
    }))
}

/// `POST /v1/auth`: a username and password — or an application token's client id and
/// client secret — for a session token.
#[utoipa::path(post, path = "/v1/auth", tag = "auth", request_body = AuthRequest,
    responses((status = 201, body = Session), (status = 400, body = Problem),
              (status = 401, body = Problem, description = "wrong credentials, a locked or disabled account, or a revoked application token")))]
pub async fn login(
    State(st): State<AppState>,
    Source(source): Source,
    Body(req): Body<AuthRequest>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let session = blocking(move || {
        let now = (st.clock)();
        let (token, s) = match (
            &req.username,
            &req.password,
            &req.client_id,
            &req.client_secret,
        ) {
            (Some(user), Some(password), None, None) => auth::login(
                &st.store,
                &st.pepper,
                &st.policy,
                user,
                password,
                source.as_deref(),
                now,
            )?,
            (None, None, Some(id), Some(secret)) => auth::login_client(
                &st.store,
                &st.pepper,
                &st.policy,
                id,
                secret,
                source.as_deref(),
                now,
            )?,
            _ => {
                return Err(ApiError::bad_request(
                    "send either username and password, or client_id and client_secret",
                ));
            }
        };
        st.plane.meter().count(
            &s.org,
            "",
            crate::control::usage::billing::Metric::Authentications,
            now,
        );
        Ok(Session {
            auth_token: token,
            expires_at: s.expires_at,
            max_expires_at: s.max_expires_at,
            org: s.org,
            username: s.principal_name,
            kind: s.principal_kind.as_str().to_string(),
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// `DELETE /v1/auth`: ends the caller's session.
#[utoipa::path(delete, path = "/v1/auth", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(st): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let session_id = caller.principal.session_id.clone();
    let s2 = st.clone();
    blocking(move || auth::logout(&s2.store, &caller.principal).map_err(ApiError::from)).await?;
    if let Some(id) = session_id {
        st.sessions.forget_session(&id);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/whoami`: the caller, its org and roles, and when its session lapses.
#[utoipa::path(get, path = "/v1/whoami", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = Problem)))]
pub async fn whoami(caller: Caller) -> Json<WhoAmI> {
    let p = caller.principal;
    Json(WhoAmI {
        principal: p.name,
        kind: p.kind.as_str().to_string(),
        org: p.org,
        server: None,
        roles: p.grants.roles.clone(),
        expires_at: p.expires_at,
        max_expires_at: p.max_expires_at,
    })
}

/// `GET /v1/orgs/{org}`.
#[utoipa::path(get, path = "/v1/orgs/{org}", tag = "org", security(("bearer" = [])),
    params(("org" = String, Path)),
    responses((status = 200, body = Org), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_org(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
) -> ApiResult<Json<Org>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.org_info()?)).map(Json)
}

/// `PATCH /v1/orgs/{org}`: the maximum token lifetime.
#[utoipa::path(patch, path = "/v1/orgs/{org}", tag = "org", security(("bearer" = [])),
    params(("org" = String, Path)), request_body = OrgUpdate,
    responses((status = 200, body = Org), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update_org(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<OrgUpdate>,
) -> ApiResult<Json<Org>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.update_org(&req, now)?))
        .await
        .map(Json)
}

/// `GET /v1/orgs/{org}/audit`: every change, oldest first.
#[utoipa::path(get, path = "/v1/orgs/{org}/audit", tag = "org", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn audit(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let cp = st.plane(&caller, &org)?;
    let since = match &q.since {
        Some(s) => parse_instant(s)
            .map_err(|e| ApiError::bad_request(format!("since: {e}")).with_field("since"))?,
        None => 0,
    };
    let items = read(|| Ok(cp.audit_entries(since)?))?;
    paginate(items, |a| format!("{:020}", a.id), &q).map(Json)
}

/// `POST /v1/orgs/{org}/instances`.
#[utoipa::path(post, path = "/v1/orgs/{org}/instances", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateInstance,
    responses((status = 201, body = Instance), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_instance(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateInstance>,
) -> ApiResult<(StatusCode, Json<Instance>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let instance = blocking(move || Ok(cp.create_instance_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(instance)))
}

/// `GET /v1/orgs/{org}/instances`.
#[utoipa::path(get, path = "/v1/orgs/{org}/instances", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<Instance>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_instances(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<Instance>>> {
    let cp = st.plane(&caller, &org)?;
    let items = read(|| Ok(cp.instances_info()?))?;
    paginate(items, |i| i.name.clone(), &q).map(Json)
}

/// `GET /v1/orgs/{org}/instances/{instance}`: with its signing keys.
#[utoipa::path(get, path = "/v1/orgs/{org}/instances/{instance}", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ("instance" = String, Path)),
    responses((status = 200, body = Instance), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_instance(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<Instance>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.instance_info(&name)?)).map(Json)
}

/// `DELETE /v1/orgs/{org}/instances/{instance}`: refused while tenants use it, unless `cascade`.
#[utoipa::path(delete, path = "/v1/orgs/{org}/instances/{instance}", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ("instance" = String, Path), DeleteQuery),
    responses((status = 200, body = Deleted, description = "count: tenants deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_instance(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
    QueryArgs(q): QueryArgs<DeleteQuery>,
) -> ApiResult<Json<Deleted>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.delete_instance_req(&name, q.cascade, now)?))
        .await
        .map(Json)
}

/// `GET /v1/orgs/{org}/instances/{instance}/public-key`.
#[utoipa::path(get, path = "/v1/orgs/{org}/instances/{instance}/public-key", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ("instance" = String, Path)),
    responses((status = 200, body = PublicKey), (status = 400, body = Problem, description = "an HMAC instance has no public key"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn public_key(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<PublicKey>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.public_key_info(&name)?)).map(Json)
}

/// `GET /v1/orgs/{org}/instances/{instance}/broker-config`.
#[utoipa::path(get, path = "/v1/orgs/{org}/instances/{instance}/broker-config", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ("instance" = String, Path)),
    responses((status = 200, body = BrokerConfig), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn broker_config(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<BrokerConfig>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.broker_config_info(&name)?)).map(Json)
}

/// `POST /v1/orgs/{org}/instances/{instance}/rotate-key`.
#[utoipa::path(post, path = "/v1/orgs/{org}/instances/{instance}/rotate-key", tag = "instances", security(("bearer" = [])),
    params(("org" = String, Path), ("instance" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Rotation), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn rotate_key(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<Rotation>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.rotate_key_info(&name, now)?))
        .await
        .map(Json)
}

/// `GET /v1/orgs/{org}/instances/{instance}/jwks.json`: public, for verifiers.
#[utoipa::path(get, path = "/v1/orgs/{org}/instances/{instance}/jwks.json", tag = "instances",
    params(("org" = String, Path), ("instance" = String, Path)),
    responses((status = 200, description = "JSON Web Key Set (RFC 7517): {\"keys\": [...]}", body = Object), (status = 404, body = Problem)))]
pub async fn jwks(
    State(st): State<AppState>,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let cp = st.plane.anonymous(&org);
    read(|| Ok(cp.jwks(&name)?)).map(Json)
}

/// `POST /v1/orgs/{org}/tenants`.
#[utoipa::path(post, path = "/v1/orgs/{org}/tenants", tag = "tenants", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateTenant,
    responses((status = 201, body = Tenant), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_tenant(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let tenant = blocking(move || Ok(cp.create_tenant_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// `GET /v1/orgs/{org}/tenants`.
#[utoipa::path(get, path = "/v1/orgs/{org}/tenants", tag = "tenants", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<Tenant>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_tenants(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<Tenant>>> {
    let cp = st.plane(&caller, &org)?;
    let instance = q.instance.clone();
    let items = read(|| Ok(cp.tenants_info(instance.as_deref())?))?;
    paginate(items, |t| t.name.clone(), &q).map(Json)
}

/// `GET /v1/orgs/{org}/tenants/{tenant}`.
#[utoipa::path(get, path = "/v1/orgs/{org}/tenants/{tenant}", tag = "tenants", security(("bearer" = [])),
    params(("org" = String, Path), ("tenant" = String, Path)),
    responses((status = 200, body = Tenant), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_tenant(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<Tenant>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.tenant_info(&name)?)).map(Json)
}

/// `DELETE /v1/orgs/{org}/tenants/{tenant}`: the tenant and its tokens.
#[utoipa::path(delete, path = "/v1/orgs/{org}/tenants/{tenant}", tag = "tenants", security(("bearer" = [])),
    params(("org" = String, Path), ("tenant" = String, Path)),
    responses((status = 200, body = Deleted, description = "count: tokens deleted with it"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_tenant(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.delete_tenant_req(&name, now)?))
        .await
        .map(Json)
}

/// `POST /v1/orgs/{org}/tenants/{tenant}/tokens`: a streaming token, shown once.
#[utoipa::path(post, path = "/v1/orgs/{org}/tenants/{tenant}/tokens", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("tenant" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateToken,
    responses((status = 201, body = Token), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_token(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, tenant)): PathArgs<(String, String)>,
    Body(req): Body<CreateToken>,
) -> ApiResult<(StatusCode, Json<Token>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let token = blocking(move || Ok(cp.create_token_req(&tenant, &req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// `GET /v1/orgs/{org}/tenants/{tenant}/tokens`: revoked ones included.
#[utoipa::path(get, path = "/v1/orgs/{org}/tenants/{tenant}/tokens", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("tenant" = String, Path), ListQuery),
    responses((status = 200, body = Page<Token>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_tenant_tokens(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, tenant)): PathArgs<(String, String)>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<Token>>> {
    let cp = st.plane(&caller, &org)?;
    let items = read(|| Ok(cp.tokens_info(Some(&tenant), q.kind.as_deref())?))?;
    paginate(items, token_key, &q).map(Json)
}

/// `GET /v1/orgs/{org}/tokens`: every tenant's streaming tokens the caller may read, then
/// the org's application tokens; revoked ones included. `?type=` keeps one kind.
#[utoipa::path(get, path = "/v1/orgs/{org}/tokens", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<Token>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<Token>>> {
    let cp = st.plane(&caller, &org)?;
    let items = read(|| Ok(cp.tokens_info(None, q.kind.as_deref())?))?;
    paginate(items, token_key, &q).map(Json)
}

/// Oldest first, then by id: the order `tok token list` shows.
fn token_key(t: &Token) -> String {
    format!("{:020}/{}", t.created_at.max(0), t.id)
}

/// `GET /v1/orgs/{org}/tenants/{tenant}/tokens/{token}`: by name or id; never the secret.
#[utoipa::path(get, path = "/v1/orgs/{org}/tenants/{tenant}/tokens/{token}", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("tenant" = String, Path), ("token" = String, Path, description = "name or id")),
    responses((status = 200, body = Token), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_token(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, tenant, name)): PathArgs<(String, String, String)>,
) -> ApiResult<Json<Token>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.token_info(&tenant, &name)?)).map(Json)
}

/// `DELETE /v1/orgs/{org}/tenants/{tenant}/tokens/{token}`: revokes it.
#[utoipa::path(delete, path = "/v1/orgs/{org}/tenants/{tenant}/tokens/{token}", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("tenant" = String, Path), ("token" = String, Path, description = "name or id")),
    responses((status = 200, body = Token), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, tenant, name)): PathArgs<(String, String, String)>,
) -> ApiResult<Json<Token>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.revoke_token_req(&tenant, &name, now)?))
        .await
        .map(Json)
}

/// `POST /v1/orgs/{org}/users`.
#[utoipa::path(post, path = "/v1/orgs/{org}/users", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateUser,
    responses((status = 201, body = User), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let user = blocking(move || Ok(cp.create_user_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `GET /v1/orgs/{org}/users`.
#[utoipa::path(get, path = "/v1/orgs/{org}/users", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<User>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_users(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<User>>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let items = read(|| Ok(cp.users_info(now)?))?;
    paginate(items, |u| u.username.clone(), &q).map(Json)
}

/// `GET /v1/orgs/{org}/users/{username}`.
#[utoipa::path(get, path = "/v1/orgs/{org}/users/{username}", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_user(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<User>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    read(|| Ok(cp.user_info(&name, now)?)).map(Json)
}

/// `DELETE /v1/orgs/{org}/users/{username}`: the user and its sessions.
#[utoipa::path(delete, path = "/v1/orgs/{org}/users/{username}", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_user(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<StatusCode> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let user = name.clone();
    blocking(move || Ok(cp.delete_user(&name, now)?)).await?;
    st.sessions
        .forget_principal(&org, PrincipalKind::User, &user);
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/orgs/{org}/users/{username}/password`: also unlocks it and ends its sessions.
#[utoipa::path(put, path = "/v1/orgs/{org}/users/{username}/password", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("username" = String, Path)), request_body = SetPassword,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn set_password(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
    Body(req): Body<SetPassword>,
) -> ApiResult<StatusCode> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let user = name.clone();
    blocking(move || Ok(cp.set_password(&name, &req.password, now)?)).await?;
    st.sessions
        .forget_principal(&org, PrincipalKind::User, &user);
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /v1/orgs/{org}/users/{username}`: disables or enables the account. Disabling
/// ends its sessions at once.
#[utoipa::path(patch, path = "/v1/orgs/{org}/users/{username}", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("username" = String, Path)), request_body = UserUpdate,
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_user(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
    Body(req): Body<UserUpdate>,
) -> ApiResult<Json<User>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let user = name.clone();
    let updated = blocking(move || Ok(cp.update_user_req(&name, &req, now)?)).await?;
    st.sessions
        .forget_principal(&org, PrincipalKind::User, &user);
    Ok(Json(updated))
}

/// `PUT /v1/orgs/{org}/users/{username}/roles/{role}`: grants a role (name or id); granting
/// one held already changes nothing.
#[utoipa::path(put, path = "/v1/orgs/{org}/users/{username}/roles/{role}", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("username" = String, Path), ("role" = String, Path, description = "name or id")),
    responses((status = 200, body = RoleGranted), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn grant_role(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name, role)): PathArgs<(String, String, String)>,
) -> ApiResult<Json<RoleGranted>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let user = name.clone();
    let granted = blocking(move || Ok(cp.grant_role_req(&name, &role, now)?)).await?;
    st.sessions
        .forget_principal(&org, PrincipalKind::User, &user);
    Ok(Json(granted))
}

/// `DELETE /v1/orgs/{org}/users/{username}/roles/{role}`: takes a role away.
#[utoipa::path(delete, path = "/v1/orgs/{org}/users/{username}/roles/{role}", tag = "users", security(("bearer" = [])),
    params(("org" = String, Path), ("username" = String, Path), ("role" = String, Path, description = "name or id")),
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke_role(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name, role)): PathArgs<(String, String, String)>,
) -> ApiResult<Json<User>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let user = name.clone();
    let updated = blocking(move || Ok(cp.revoke_role_req(&name, &role, now)?)).await?;
    st.sessions
        .forget_principal(&org, PrincipalKind::User, &user);
    Ok(Json(updated))
}

/// `POST /v1/orgs/{org}/roles`: a custom role; it may grant only what the caller holds.
#[utoipa::path(post, path = "/v1/orgs/{org}/roles", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateRole,
    responses((status = 201, body = Role), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_role(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateRole>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let role = blocking(move || Ok(cp.create_role_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(role)))
}

/// `GET /v1/orgs/{org}/roles`: built-in roles first, then custom ones by name.
#[utoipa::path(get, path = "/v1/orgs/{org}/roles", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<Role>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_roles(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<Role>>> {
    let cp = st.plane(&caller, &org)?;
    let items = read(|| Ok(cp.roles_info()?))?;
    // Built-in roles first in their fixed order, then custom ones by name.
    let keyed: Vec<(String, Role)> = items
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let key = if r.builtin {
                format!("0{i:04}")
            } else {
                format!("1{}", r.name)
            };
            (key, r)
        })
        .collect();
    let page = paginate(keyed, |(k, _)| k.clone(), &q)?;
    Ok(Json(Page {
        items: page.items.into_iter().map(|(_, r)| r).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `GET /v1/orgs/{org}/roles/{role}`: by name (built-in ones case-insensitively) or id.
#[utoipa::path(get, path = "/v1/orgs/{org}/roles/{role}", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path), ("role" = String, Path, description = "name or id")),
    responses((status = 200, body = Role), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_role(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<Role>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.role_info(&name)?)).map(Json)
}

/// `PATCH /v1/orgs/{org}/roles/{role}`: a custom role's description, actions or resources.
#[utoipa::path(patch, path = "/v1/orgs/{org}/roles/{role}", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path), ("role" = String, Path, description = "name or id")), request_body = UpdateRole,
    responses((status = 200, body = Role), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update_role(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
    Body(req): Body<UpdateRole>,
) -> ApiResult<Json<Role>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let role = blocking(move || Ok(cp.update_role_req(&name, &req, now)?)).await?;
    // Any session may hold it: drop every cached grant.
    st.sessions.clear();
    Ok(Json(role))
}

/// `DELETE /v1/orgs/{org}/roles/{role}`: refused while anyone holds it, unless `force`.
#[utoipa::path(delete, path = "/v1/orgs/{org}/roles/{role}", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path), ("role" = String, Path, description = "name or id"), ForceQuery),
    responses((status = 200, body = RoleDeleted), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_role(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
    QueryArgs(q): QueryArgs<ForceQuery>,
) -> ApiResult<Json<RoleDeleted>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let deleted = blocking(move || Ok(cp.delete_role_req(&name, q.force, now)?)).await?;
    st.sessions.clear();
    Ok(Json(deleted))
}

/// `POST /v1/orgs/{org}/tokens`: an application token — client id, client secret and
/// token, the two secrets shown once.
#[utoipa::path(post, path = "/v1/orgs/{org}/tokens", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateAppToken,
    responses((status = 201, body = Token), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_app_token(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateAppToken>,
) -> ApiResult<(StatusCode, Json<Token>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let token = blocking(move || Ok(cp.create_app_token_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// `GET /v1/orgs/{org}/tokens/{token}`: an application token by name, client id or id;
/// never its secrets.
#[utoipa::path(get, path = "/v1/orgs/{org}/tokens/{token}", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("token" = String, Path, description = "name, client id or id")),
    responses((status = 200, body = Token), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_app_token(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, key)): PathArgs<(String, String)>,
) -> ApiResult<Json<Token>> {
    let cp = st.plane(&caller, &org)?;
    read(|| Ok(cp.app_token_info(&key)?)).map(Json)
}

/// `DELETE /v1/orgs/{org}/tokens/{token}`: revokes an application token; the sessions it
/// bought end too.
#[utoipa::path(delete, path = "/v1/orgs/{org}/tokens/{token}", tag = "tokens", security(("bearer" = [])),
    params(("org" = String, Path), ("token" = String, Path, description = "name, client id or id")),
    responses((status = 200, body = Token), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_app_token(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, key)): PathArgs<(String, String)>,
) -> ApiResult<Json<Token>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let token = blocking(move || Ok(cp.revoke_app_token_req(&key, now)?)).await?;
    st.sessions
        .forget_principal(&org, PrincipalKind::Application, &token.name);
    Ok(Json(token))
}

/// `?service_account=&instance=&status=` on API key lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyQuery {
    /// Items per page, 1-1000 [default: 100].
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Only this service account's keys.
    pub service_account: Option<String>,
    /// Only keys for this instance.
    pub instance: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: Option<String>,
}

/// `?since=&limit=` on the revocation feed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `next_cursor` from the previous answer; absent: from the beginning.
    pub since: Option<String>,
    /// Entries per answer, 1-1000 [default: 1000].
    pub limit: Option<u32>,
}

/// `POST /v1/orgs/{org}/service-accounts`.
#[utoipa::path(post, path = "/v1/orgs/{org}/service-accounts", tag = "service-accounts", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateServiceAccount,
    responses((status = 201, body = ServiceAccount), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_service_account(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateServiceAccount>,
) -> ApiResult<(StatusCode, Json<ServiceAccount>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let sa = blocking(move || Ok(cp.create_service_account_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(sa)))
}

/// `GET /v1/orgs/{org}/service-accounts`.
#[utoipa::path(get, path = "/v1/orgs/{org}/service-accounts", tag = "service-accounts", security(("bearer" = [])),
    params(("org" = String, Path), ListQuery),
    responses((status = 200, body = Page<ServiceAccount>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_service_accounts(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> ApiResult<Json<Page<ServiceAccount>>> {
    let cp = st.plane(&caller, &org)?;
    let items = read(|| Ok(cp.service_accounts_info()?))?;
    paginate(items, |s| s.name.clone(), &q).map(Json)
}

/// `GET /v1/orgs/{org}/service-accounts/{name}`: with its roles and its keys.
#[utoipa::path(get, path = "/v1/orgs/{org}/service-accounts/{name}", tag = "service-accounts", security(("bearer" = [])),
    params(("org" = String, Path), ("name" = String, Path, description = "name or id")),
    responses((status = 200, body = ServiceAccount), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_service_account(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<ServiceAccount>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    read(|| Ok(cp.service_account_info(&name, now)?)).map(Json)
}

/// `DELETE /v1/orgs/{org}/service-accounts/{name}`: and every API key it owns (revoked
/// into the feed first).
#[utoipa::path(delete, path = "/v1/orgs/{org}/service-accounts/{name}", tag = "service-accounts", security(("bearer" = [])),
    params(("org" = String, Path), ("name" = String, Path, description = "name or id")),
    responses((status = 200, body = ServiceAccountDeleted), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_service_account(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, name)): PathArgs<(String, String)>,
) -> ApiResult<Json<ServiceAccountDeleted>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.delete_service_account_req(&name, now)?))
        .await
        .map(Json)
}

/// `POST /v1/orgs/{org}/apikeys`: a JWT for a service account and an instance, shown once.
#[utoipa::path(post, path = "/v1/orgs/{org}/apikeys", tag = "apikeys", security(("bearer" = [])),
    params(("org" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = CreateApiKey,
    responses((status = 201, body = ApiKey), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_api_key(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    Body(req): Body<CreateApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKey>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let key = blocking(move || Ok(cp.create_api_key_req(&req, now)?)).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// `GET /v1/orgs/{org}/apikeys`: oldest first; revoked ones until purged.
#[utoipa::path(get, path = "/v1/orgs/{org}/apikeys", tag = "apikeys", security(("bearer" = [])),
    params(("org" = String, Path), ApiKeyQuery),
    responses((status = 200, body = Page<ApiKey>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_api_keys(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<ApiKeyQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let filter = crate::model::ApiKeyFilter {
        service_account: q.service_account.clone(),
        instance: q.instance.clone(),
        status: q.status.clone(),
    };
    let items = read(|| Ok(cp.api_keys_info(&filter, now)?))?;
    let page = ListQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
        ..ListQuery::default()
    };
    paginate(
        items,
        |k| format!("{:020}/{}", k.created_at.max(0), k.id),
        &page,
    )
    .map(Json)
}

/// `GET /v1/orgs/{org}/apikeys/{key}`: by name or id; never the key.
#[utoipa::path(get, path = "/v1/orgs/{org}/apikeys/{key}", tag = "apikeys", security(("bearer" = [])),
    params(("org" = String, Path), ("key" = String, Path, description = "name or id")),
    responses((status = 200, body = ApiKey), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_api_key(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, key)): PathArgs<(String, String)>,
) -> ApiResult<Json<ApiKey>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    read(|| Ok(cp.api_key_info(&key, now)?)).map(Json)
}

/// `POST /v1/orgs/{org}/apikeys/{key}/revoke`: marks it revoked (kept, listed, purged after
/// the retention period) and appends it to the revocation feed. Revoking a revoked key
/// changes nothing (`x-already-revoked: true`).
#[utoipa::path(post, path = "/v1/orgs/{org}/apikeys/{key}/revoke", tag = "apikeys", security(("bearer" = [])),
    params(("org" = String, Path), ("key" = String, Path, description = "name or id")),
    responses((status = 200, body = ApiKey, headers(("x-already-revoked" = String, description = "true when the key was revoked before this request (nothing changed)"))),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_api_key(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, key)): PathArgs<(String, String)>,
) -> ApiResult<([(&'static str, &'static str); 1], Json<ApiKey>)> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let (key, revoked) = blocking(move || Ok(cp.revoke_api_key_req(&key, now)?)).await?;
    let already = if revoked { "false" } else { "true" };
    Ok(([("x-already-revoked", already)], Json(key)))
}

/// `DELETE /v1/orgs/{org}/apikeys/{key}`: revokes (into the feed) and removes it at once.
#[utoipa::path(delete, path = "/v1/orgs/{org}/apikeys/{key}", tag = "apikeys", security(("bearer" = [])),
    params(("org" = String, Path), ("key" = String, Path, description = "name or id")),
    responses((status = 200, body = ApiKey), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_api_key(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs((org, key)): PathArgs<(String, String)>,
) -> ApiResult<Json<ApiKey>> {
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    blocking(move || Ok(cp.delete_api_key_req(&key, now)?))
        .await
        .map(Json)
}

/// `GET /v1/orgs/{org}/revocations`: revoked JWTs (streaming tokens and API keys) in the
/// order they were revoked, after `since`; poll with `next_cursor`.
#[utoipa::path(get, path = "/v1/orgs/{org}/revocations", tag = "introspection", security(("bearer" = [])),
    params(("org" = String, Path), FeedQuery),
    responses((status = 200, body = RevocationFeed), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revocations(
    State(st): State<AppState>,
    caller: Caller,
    PathArgs(org): PathArgs<String>,
    QueryArgs(q): QueryArgs<FeedQuery>,
) -> ApiResult<Json<RevocationFeed>> {
    let cp = st.plane(&caller, &org)?;
    let limit = q.limit.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is out of range: use 1 to {MAX_LIMIT}"
        ))
        .with_field("limit"));
    }
    read(|| Ok(cp.revocation_feed(q.since.as_deref(), limit as usize)?)).map(Json)
}

/// `POST /v1/introspect` (RFC 7662): whether a credential of the caller's org is active.
/// Anything unknown, revoked, expired or malformed is `{"active": false}` with a `reason`.
#[utoipa::path(post, path = "/v1/introspect", tag = "introspection", security(("bearer" = [])),
    request_body(content = IntrospectRequest, description = "JSON, or form-encoded `token=…`"),
    responses((status = 200, body = Introspection), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn introspect(
    State(st): State<AppState>,
    caller: Caller,
    IntrospectBody(req): IntrospectBody,
) -> ApiResult<Json<Introspection>> {
    let org = caller.principal.org.clone();
    let cp = st.plane(&caller, &org)?;
    let now = (st.clock)();
    let (answer, touch) = read(|| Ok(cp.introspect_req(&req.token, now, Some(&st.issued))?))?;
    if let Some(touch) = touch {
        super::extract::record_use(&st, touch, now).await;
    }
    Ok(Json(answer))
}

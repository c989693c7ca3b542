//! `tok server`: the control plane over HTTP (axum). Routes only extract, call
//! [`crate::control`], and map; errors are problem+json; every request gets an id that
//! is echoed in `x-request-id` and in the structured log, which never holds a secret.

mod error;
mod extract;
mod idempotency;
mod routes;
mod usage;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;

use crate::control::any::AnyStore;
use crate::control::auth::AuthPolicy;
use crate::control::purge;
use crate::control::session_cache::SessionCache;
use crate::control::{ControlPlane, MasterKey, Sealer};

/// The largest request body accepted (64 KiB: imported keys are the largest bodies), except
/// for batches of usage records.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How often a server writes the control plane's own usage counts by default.
pub const DEFAULT_METER_FLUSH: Duration = Duration::from_secs(10);

/// Everything a handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The control plane with no caller: handlers derive one per request with `acting`.
    pub plane: ControlPlane<Arc<AnyStore>>,
    pub store: Arc<AnyStore>,
    pub pepper: Vec<u8>,
    pub policy: AuthPolicy,
    /// The clock (Unix seconds); tests of the rules pass time in at the control layer.
    pub clock: fn() -> i64,
    /// Session rows looked up in the last second.
    pub sessions: SessionCache,
    /// Seconds a revoked API key stays listed before the purge removes it.
    pub apikey_retention: i64,
    /// JWTs whose signature verified recently (introspection, API keys as bearer tokens).
    pub issued: crate::control::introspect::IssuedCache,
    /// When this server last wrote down each credential's use: a burst of requests at the
    /// minute's turn writes once, not once per request.
    pub recorded:
        std::sync::Mutex<std::collections::HashMap<crate::control::introspect::Touch, i64>>,
    /// How often the control plane's own usage counts are written (a crash loses at most
    /// this much of them).
    pub meter_flush: Duration,
    /// This replica's name in `job_runs` and the logs: host name and process id.
    pub replica: String,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// `session_cache`: how long a looked-up session row is reused (zero: never).
    pub fn new(
        store: Arc<AnyStore>,
        sealer: Sealer,
        policy: AuthPolicy,
        session_cache: Duration,
    ) -> AppState {
        let pepper = sealer.pepper().to_vec();
        let master = MasterKey::ready(sealer);
        let plane = ControlPlane::new(Arc::clone(&store), master, "", "server");
        AppState(Arc::new(Inner {
            plane,
            store,
            pepper,
            policy,
            clock: crate::duration::now,
            sessions: SessionCache::new(session_cache),
            apikey_retention: crate::control::apikeys::DEFAULT_RETENTION_SECS,
            issued: crate::control::introspect::IssuedCache::new(
                crate::control::introspect::ISSUED_CACHE_TTL,
            ),
            recorded: std::sync::Mutex::default(),
            meter_flush: DEFAULT_METER_FLUSH,
            replica: replica_name(),
        }))
    }

    /// The same state with another interval between writes of the usage counts.
    pub fn with_meter_flush(self, every: Duration) -> AppState {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.meter_flush = every;
                AppState(Arc::new(inner))
            }
            Err(shared) => AppState(shared),
        }
    }

    /// Writes the usage counts held in memory; a failure is logged and the counts kept
    /// for the next flush.
    pub async fn flush_usage(&self) {
        let st = self.clone();
        let done = blocking(move || st.plane.flush_usage().map_err(ApiError::from)).await;
        if let Err(e) = done {
            tracing::warn!(code = %e.code, detail = %e.detail, "writing usage counts failed; they are kept for the next flush");
        }
    }

    /// The same state with another retention for revoked API keys (seconds).
    pub fn with_apikey_retention(self, secs: i64) -> AppState {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.apikey_retention = secs;
                AppState(Arc::new(inner))
            }
            Err(shared) => AppState(shared),
        }
    }

    /// The control plane acting for `caller` in `org`; another org is as if it did not exist.
    fn plane(
        &self,
        caller: &extract::Caller,
        org: &str,
    ) -> Result<ControlPlane<Arc<AnyStore>>, ApiError> {
        if caller.principal.org != org {
            return Err(ApiError::org_not_found(org));
        }
        Ok(self
            .plane
            .acting(org, &caller.principal, caller.source.clone()))
    }

    fn master(&self) -> Result<&Sealer, ApiError> {
        self.plane.master().get().map_err(ApiError::from)
    }
}

/// Runs a read on the async worker itself. Reads are indexed point queries on a pooled
/// connection (WAL: they never wait for writers), a few microseconds each; handing them to
/// a blocking thread and back cost more than the query (measured: benches/README.md).
/// The PostgreSQL store, whose client blocks on the network, moves itself off the async
/// context for the query (`block_in_place`: the worker's other tasks go to another thread).
pub fn read<T>(f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    f()
}

/// Runs synchronous work that may wait (writes: SQLite's write lock, fsync; Argon2) off
/// the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("a worker thread failed"))?
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tok control plane",
        description = "Pulsar tenant tokens, application tokens, instances and signing keys, \
                       users, roles and sessions. Every request is authorized against the \
                       caller's roles: 401 without a valid credential, 403 when no role grants \
                       the action, 404 for what the caller may not see. Errors are \
                       application/problem+json with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sessions: log in with a password, log out, who am I"),
        (name = "org", description = "Org settings and the audit trail"),
        (name = "instances", description = "Pulsar clusters and their signing keys"),
        (name = "tenants", description = "Pulsar tenants"),
        (name = "tokens", description = "Streaming tokens (Pulsar JWTs) and application tokens (client id, client secret, token), shown once"),
        (name = "users", description = "People who log in with a password, and the roles they hold"),
        (name = "roles", description = "Built-in and custom roles: policies of actions on resources"),
        (name = "service-accounts", description = "Non-human principals that own API keys and carry roles"),
        (name = "apikeys", description = "API keys: JWTs of a service account for one instance, shown once, immutable"),
        (name = "introspection", description = "RFC 7662 introspection and the revocation feed, for gateways and brokers"),
        (name = "usage", description = "Usage by tenant and day (metered and sent by brokers), the rate card, and a month's bill"),
        (name = "health", description = "Liveness and readiness")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from POST /v1/auth, or an application token",
                    ))
                    .build(),
            ),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::healthz))
        .routes(routes!(routes::readyz))
        .routes(routes!(routes::login, routes::logout))
        .routes(routes!(routes::whoami))
        .routes(routes!(routes::get_org, routes::update_org))
        .routes(routes!(routes::audit))
        .routes(routes!(routes::create_instance, routes::list_instances))
        .routes(routes!(routes::get_instance, routes::delete_instance))
        .routes(routes!(routes::public_key))
        .routes(routes!(routes::broker_config))
        .routes(routes!(routes::rotate_key))
        .routes(routes!(routes::jwks))
        .routes(routes!(routes::create_tenant, routes::list_tenants))
        .routes(routes!(routes::get_tenant, routes::delete_tenant))
        .routes(routes!(routes::create_token, routes::list_tenant_tokens))
        .routes(routes!(routes::list_tokens, routes::create_app_token))
        .routes(routes!(routes::get_app_token, routes::revoke_app_token))
        .routes(routes!(routes::get_token, routes::revoke_token))
        .routes(routes!(routes::create_user, routes::list_users))
        .routes(routes!(
            routes::get_user,
            routes::delete_user,
            routes::update_user
        ))
        .routes(routes!(routes::set_password))
        .routes(routes!(routes::grant_role, routes::revoke_role))
        .routes(routes!(routes::create_role, routes::list_roles))
        .routes(routes!(
            routes::create_service_account,
            routes::list_service_accounts
        ))
        .routes(routes!(
            routes::get_service_account,
            routes::delete_service_account
        ))
        .routes(routes!(routes::create_api_key, routes::list_api_keys))
        .routes(routes!(routes::get_api_key, routes::delete_api_key))
        .routes(routes!(routes::revoke_api_key))
        .routes(routes!(routes::revocations))
        .routes(routes!(routes::introspect))
        .routes(routes!(
            routes::get_role,
            routes::update_role,
            routes::delete_role
        ))
        .routes(routes!(usage::usage_report))
        .routes(routes!(usage::usage_billing))
        .routes(routes!(usage::get_rates, usage::update_rates))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(usage::record_usage))
                .layer(axum::extract::DefaultBodyLimit::max(
                    usage::RECORDS_BODY_LIMIT,
                )),
        )
}

/// The OpenAPI document, as served at `/v1/openapi.json` and kept in the repo.
pub fn openapi_json() -> String {
    let (_, api) = api_router().split_for_parts();
    pretty(&api)
}

fn pretty(api: &utoipa::openapi::OpenApi) -> String {
    let mut text = api.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// The whole application: routes, OpenAPI, limits, request ids, logs, problem+json
/// for unknown routes and methods.
pub fn app(state: AppState) -> Router {
    let (router, api) = api_router().split_for_parts();
    let doc = pretty(&api);
    let request_id = HeaderName::from_static("x-request-id");
    router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], doc)
            }),
        )
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), meter_calls))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(problem_for_bare_errors))
        .layer(middleware::from_fn(access_log))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, RequestIds::default()))
        .with_state(state)
}

/// Counts an authenticated request as an API call of its caller's org: of the tenant its path
/// names when it succeeded, else of the org (a call about a tenant that does not exist, or
/// that the caller may not see, is no usage of that tenant). An in-memory count; the meter
/// loop writes it.
async fn meter_calls(
    axum::extract::State(st): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let slot = extract::MeterSlot::default();
    req.extensions_mut().insert(slot.clone());
    let uri = req.uri().clone();
    let resp = next.run(req).await;
    if let Some(org) = slot.0.get() {
        let tenant = if resp.status().is_success() {
            extract::tenant_in_path(uri.path(), org)
        } else {
            None
        };
        st.plane.meter().count(
            org,
            tenant.as_deref().unwrap_or_default(),
            crate::control::usage::billing::Metric::ApiCalls,
            (st.clock)(),
        );
    }
    resp
}

async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!("no such endpoint: {method} {}", uri.path()),
    )
    .with_hint("the API is described at /v1/openapi.json")
}

/// axum answers a wrong method (405) and some rejections with a bare body; give them
/// problem+json like everything else.
async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let allow = resp.headers().get(header::ALLOW).cloned();
    let err = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            format!(
                "{method} is not allowed on {path}; allowed: {}",
                allow
                    .as_ref()
                    .and_then(|a| a.to_str().ok())
                    .unwrap_or("see /v1/openapi.json")
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => extract::too_large(),
        s => ApiError::new(
            s,
            "invalid_request",
            s.canonical_reason().unwrap_or("the request was refused"),
        ),
    };
    let mut out = err.into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

/// One structured line per request: method, route (not the raw path), status, latency,
/// request id. Never headers or bodies (they carry tokens and passwords).
async fn access_log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or_default()
        .to_string();
    let resp = next.run(req).await;
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        latency_us = start.elapsed().as_micros() as u64,
        "request"
    );
    resp
}

/// Request ids: a per-process random prefix and a counter (unique, cheap, no secret).
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<String>,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds {
            prefix: Arc::new(crate::control::opaque::request_key()[4..12].to_string()),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _req: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:08}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// How a server listens.
pub struct Listen {
    pub addr: SocketAddr,
    /// PEM certificate chain and private key for HTTPS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// Serves `state` until SIGINT or SIGTERM; in-flight requests finish (up to `grace`).
/// `on_bound` is called with the bound address (port 0 picks one) before serving.
pub async fn serve(
    state: AppState,
    listen: Listen,
    grace: Duration,
    on_bound: impl FnOnce(SocketAddr, bool),
) -> std::io::Result<()> {
    let app = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::<SocketAddr>::new();
    let listener = std::net::TcpListener::bind(listen.addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let tls = listen.tls.is_some();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        shutdown.graceful_shutdown(Some(grace));
    });
    tokio::spawn(purge_loop(state.clone()));
    tokio::spawn(meter_loop(state.clone()));
    on_bound(bound, tls);
    let served = match listen.tls {
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    std::io::Error::other(format!(
                        "cannot load the TLS certificate {} and key {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?;
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(app)
                .await
        }
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(app)
                .await
        }
    };
    // The counts of the last interval, so that a clean stop loses none.
    state.flush_usage().await;
    served
}

/// Writes the usage counts every `meter_flush`.
async fn meter_loop(state: AppState) {
    let mut tick = tokio::time::interval(state.meter_flush.max(Duration::from_millis(100)));
    tick.tick().await;
    loop {
        tick.tick().await;
        state.flush_usage().await;
    }
}

/// How often a replica looks whether the purge is due: every replica looks, the first to
/// find it due runs it (`control::purge`), so replicas purge once per
/// [`purge::EVERY_SECS`] between them, not once each.
const PURGE_CHECK: Duration = Duration::from_secs(60);

/// Forgets ended sessions, old idempotency keys and usage batch ids, revoked API keys past
/// their retention and feed entries nobody needs, when no replica did so in the last ten
/// minutes.
async fn purge_loop(state: AppState) {
    let mut tick = tokio::time::interval(PURGE_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // After a failure this replica waits a whole interval: a purge that keeps failing (one
    // that runs past the statement timeout, holding the write lock all the while) is then
    // tried once per interval by each replica, not every minute.
    let mut paused_until: Option<tokio::time::Instant> = None;
    let pause = Duration::from_secs(purge::EVERY_SECS.unsigned_abs());
    loop {
        tick.tick().await;
        if paused_until.is_some_and(|t| tokio::time::Instant::now() < t) {
            continue;
        }
        paused_until = None;
        let st = state.clone();
        let ran = blocking(move || {
            let retention = purge::Retention {
                idempotency_keys: idempotency::RETENTION_SECS,
                usage_batches: crate::control::usage::BATCH_RETENTION_SECS,
                revoked: st.apikey_retention,
            };
            let now = (st.clock)();
            purge::run_if_due(&*st.store, &st.replica, retention, purge::EVERY_SECS, now)
                .map_err(ApiError::from)
        })
        .await;
        match ran {
            Ok(Some(p)) => tracing::info!(
                replica = %state.replica,
                sessions = p.sessions,
                idempotency_keys = p.idempotency_keys,
                usage_batches = p.usage_batches,
                api_keys = p.api_keys,
                revocations = p.revocations,
                "purge ran"
            ),
            Ok(None) => {}
            Err(e) => {
                paused_until = Some(tokio::time::Instant::now() + pause);
                tracing::warn!(code = %e.code, detail = %e.detail, "the purge failed; this replica tries again in 10 minutes, another may sooner")
            }
        }
    }
}

/// `host:pid`: which replica ran a fleet-wide job, for the operator reading `job_runs` or
/// the logs.
fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{host}:{}", std::process::id())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

//! Extractors whose rejections are problem+json: the caller (a bearer session token or
//! application token),
//! JSON bodies (400 naming the field at fault), path segments and query strings.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::control::auth::LAST_USED_GRANULARITY;
use crate::control::auth::{self, Principal};
use crate::control::introspect::Touch;
use crate::control::{introspect, opaque};

/// Writes down a credential's use (`last_used_at`, due at most once a minute) on a blocking
/// thread. A failure is logged, never the request's: the use of a credential is a record,
/// not a condition of the request.
pub async fn record_use(state: &AppState, touch: Touch, now: i64) {
    // Another request of this burst wrote (or is writing) it already.
    if let Ok(mut recorded) = state.recorded.lock() {
        if recorded
            .get(&touch)
            .is_some_and(|at| now - at < LAST_USED_GRANULARITY)
        {
            return;
        }
        if recorded.len() >= 100_000 {
            recorded.retain(|_, at| now - *at < LAST_USED_GRANULARITY);
        }
        recorded.insert(touch.clone(), now);
    }
    let st = state.clone();
    let done = tokio::task::spawn_blocking(move || touch.apply(&st.store, now)).await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "recording a credential's use failed"),
        Err(_) => tracing::warn!("recording a credential's use failed: the worker thread failed"),
    }
}

/// Where authentication leaves the caller's org for the metering of API calls.
#[derive(Clone, Default)]
pub struct MeterSlot(pub std::sync::Arc<std::sync::OnceLock<String>>);

/// The tenant a request's path names within `org`: `/v1/orgs/<org>/tenants/<tenant>/…`,
/// percent-decoded as the router decodes it (`%61cme` is `acme`).
pub fn tenant_in_path<'a>(path: &'a str, org: &str) -> Option<std::borrow::Cow<'a, str>> {
    // Borrowed unless the segment holds an escape: no allocation for the usual path.
    let decode = |s: &'a str| percent_encoding::percent_decode_str(s).decode_utf8().ok();
    let rest = path.strip_prefix("/v1/orgs/")?;
    let (o, rest) = rest.split_once('/')?;
    if decode(o)? != org {
        return None;
    }
    let rest = rest.strip_prefix("tenants/")?;
    let tenant = decode(rest.split('/').next()?)?;
    (!tenant.is_empty()).then_some(tenant)
}

/// Three dot-separated parts, the first starting like a JSON object in base64url (`eyJ`).
fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.bytes().filter(|b| *b == b'.').count() == 2
}

/// The authenticated caller and where the request came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub source: Option<String>,
}

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the Authorization header must be 'Bearer <token>'",
        )),
    }
}

/// Checks the request's bearer token (once per request: the result is kept in the
/// request's extensions for later extractors).
pub async fn authenticate(state: &AppState, parts: &mut Parts) -> Result<Caller, ApiError> {
    if let Some(caller) = parts.extensions.get::<Caller>() {
        return Ok(caller.clone());
    }
    let token = bearer(parts)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "this request needs a session token, an application token or an API key \
             (Authorization: Bearer <token>)",
        )
        .with_hint(
            "run `tok login`, or POST /v1/auth with a username and password (or a client id \
             and client secret)",
        )
    })?;
    let source = source_of(parts);
    let principal = check(state, &token).await?;
    // Metered once the answer is known (see `super::meter_calls`).
    if let Some(slot) = parts.extensions.get::<MeterSlot>() {
        let _ = slot.0.set(principal.org.clone());
    }
    let caller = Caller { principal, source };
    parts.extensions.insert(caller.clone());
    Ok(caller)
}

/// Checks a session token: its format offline, then the session row (from the cache of
/// recent lookups, else one indexed read on the async worker), then the expiry rules
/// against the clock. Writing the slid expiry forward, at most once per slide granularity
/// per session, goes to a blocking thread.
async fn check(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let now = (state.clock)();
    if opaque::is_kind(opaque::Kind::Application, token) {
        let (principal, due) = super::read(|| {
            auth::check_app_token(&state.store, &state.pepper, token, now).map_err(ApiError::from)
        })?;
        if due {
            record_use(state, Touch::Application(principal.id.clone()), now).await;
        }
        return Ok(principal);
    }
    if looks_like_jwt(token) {
        let (principal, due) = super::read(|| {
            let master = state.plane.master();
            introspect::check_api_key_with(&state.store, master, token, now, Some(&state.issued))
                .map_err(ApiError::from)
        })?;
        if let Some(key_id) = due {
            record_use(state, Touch::ApiKey(key_id), now).await;
        }
        return Ok(principal);
    }
    let (principal, slide) = super::read(|| {
        auth::check_session(
            &state.store,
            &state.pepper,
            &state.policy,
            token,
            now,
            Some(&state.sessions),
        )
        .map_err(ApiError::from)
    })?;
    if let Some(slide) = slide {
        let st = state.clone();
        super::blocking(move || {
            auth::apply_slide(&st.store, &slide, Some(&st.sessions)).map_err(ApiError::from)
        })
        .await?;
    }
    Ok(principal)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, parts).await
    }
}

/// The client's address, when the server knows it.
pub struct Source(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of(parts)))
    }
}

fn source_of(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// A JSON body; errors name the field at fault.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.split(';').next().unwrap_or_default().trim();
                ct.eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| too_large())?;
        parse_json(&bytes).map(Body)
    }
}

/// Deserializes a JSON body, naming the field at fault in errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner().to_string();
        let path = e.path().to_string();
        // "missing field `name`" / "unknown field `x`, expected …" name the field themselves.
        let named = inner.split('`').nth(1).map(str::to_string);
        let field = if path != "." {
            Some(path)
        } else if inner.starts_with("missing field") || inner.starts_with("unknown field") {
            named
        } else {
            None
        };
        let detail = match &field {
            Some(f) => format!("invalid JSON body at '{f}': {inner}"),
            None => format!("invalid JSON body: {inner}"),
        };
        let err = ApiError::bad_request(detail);
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    Ok(value)
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!(
            "the request body is too large: at most {} KiB ({} MiB for usage records)",
            super::BODY_LIMIT / 1024,
            super::usage::RECORDS_BODY_LIMIT / (1024 * 1024)
        ),
    )
}

/// Path segments, with a problem+json rejection.
pub struct PathArgs<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathArgs(p.0))
            .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))
    }
}

/// A query string, with a problem+json rejection.
pub struct QueryArgs<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryArgs(q.0))
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {}", e.body_text())))
    }
}

/// `POST /v1/introspect`'s body: RFC 7662's form encoding (`token=…`), or JSON.
pub struct IntrospectBody(pub crate::model::IntrospectRequest);

impl<S: Send + Sync> FromRequest<S> for IntrospectBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if is_form {
            axum::Form::<crate::model::IntrospectRequest>::from_request(req, state)
                .await
                .map(|f| IntrospectBody(f.0))
                .map_err(|e| {
                    ApiError::bad_request(format!("invalid form body: {}", e.body_text()))
                        .with_field("token")
                })
        } else {
            Body::from_request(req, state)
                .await
                .map(|Body(b)| IntrospectBody(b))
        }
    }
}

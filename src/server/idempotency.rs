//! `Idempotency-Key` on creating `POST`s: the first request with a key runs; a repeat
//! with the same key and body gets the first response again (even after a restart),
//! a repeat with another body gets 422, and a repeat while the first still runs waits
//! for it. Keys are per caller and kept for at least 24 hours. Stored responses are
//! sealed under the master key: a created token is a secret.

use std::time::Duration;

use aws_lc_rs::digest;
use axum::body::Body as AxumBody;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{authenticate, too_large};
use super::{AppState, BODY_LIMIT, blocking};
use crate::control::Store;
use crate::control::model::IdempotentRequest;
use serde::{Deserialize, Serialize};

/// A response as stored (sealed) for replay.
#[derive(Serialize, Deserialize)]
struct IdempotencyRecord {
    content_type: String,
    body: String,
}

/// How long a key is remembered (the contract says at least 24 hours).
pub const RETENTION_SECS: i64 = 25 * 3600;
/// A claimed key whose request has not finished after this long is taken over.
const ABANDONED_SECS: i64 = 60;
/// How long a repeat waits for the first request to finish.
const WAIT: Duration = Duration::from_secs(30);

pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    // Creating POSTs only: logging in has no caller to key on.
    if req.method() != Method::POST || req.uri().path() == "/v1/auth" {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get("idempotency-key").cloned() else {
        return next.run(req).await;
    };
    match run(st, key, req, next).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn run(
    st: AppState,
    key: HeaderValue,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("the Idempotency-Key must be 1-255 visible ASCII characters")
                .with_field("Idempotency-Key")
        })?
        .to_string();
    let (mut parts, body) = req.into_parts();
    let caller = authenticate(&st, &mut parts).await?;
    // The route's own limit: batches of usage records are larger than anything else.
    let limit = if parts.uri.path().ends_with("/usage/records") {
        super::usage::RECORDS_BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(parts.method.as_str().as_bytes());
    ctx.update(b" ");
    ctx.update(parts.uri.path().as_bytes());
    ctx.update(b"\n");
    ctx.update(&bytes);
    let hash = ctx.finish().as_ref().to_vec();
    let principal = caller.principal.id.clone();

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // A read first: a repeat (or a wait for a running first request) writes nothing.
        let now = (st.clock)();
        let prev = super::read(|| {
            st.store
                .read(|tx| tx.idempotent_request(&principal, &key))
                .map_err(ApiError::from)
        })?;
        match prev {
            Some(prev) if prev.request_hash != hash => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request; use a new key for a new request",
                ));
            }
            Some(IdempotentRequest {
                status: Some(status),
                sealed_response: Some(sealed),
                ..
            }) => return replay(&st, &principal, &key, status, &sealed),
            Some(prev) if prev.created_at >= now - ABANDONED_SECS => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "idempotency_key_in_use",
                        "a request with this Idempotency-Key is still running; retry later",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            // Unclaimed, or claimed by a request that never finished: claim it.
            abandoned => {
                let (st2, p, k, h) = (st.clone(), principal.clone(), key.clone(), hash.clone());
                let take_over = abandoned.is_some();
                let claimed = blocking(move || {
                    st2.store
                        .write(|tx| {
                            if take_over {
                                tx.release_idempotency_key(&p, &k)?;
                            }
                            tx.claim_idempotency_key(&p, &k, &h, now)
                        })
                        .map_err(ApiError::from)
                })
                .await?;
                if claimed {
                    break;
                }
                // Another request claimed it between our read and our write: look again.
            }
        }
    }

    // The request runs, and its answer is stored, in a task of its own: if the client goes
    // away mid-request, the create still finishes and a retry gets its answer instead of a
    // claimed key with no answer (or, after the abandon time, a second create).
    let req = Request::from_parts(parts, AxumBody::from(bytes));
    let task = tokio::spawn(async move {
        let resp = next.run(req).await;
        finish(st, principal, key, resp).await
    });
    task.await
        .map_err(|_| ApiError::internal("the request's task failed"))?
}

/// Stores the answer for replay (or releases the key after a server error, so that a
/// retry runs the request again) and hands the answer on.
async fn finish(
    st: AppState,
    principal: String,
    key: String,
    resp: Response,
) -> Result<Response, ApiError> {
    let (resp_parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| ApiError::internal("reading the response failed"))?;
    let status = resp_parts.status;
    let content_type = resp_parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let stored_body = body.clone();
    blocking(move || {
        let result = if status.is_server_error() {
            st.store
                .write(|tx| tx.release_idempotency_key(&principal, &key))
        } else {
            let record = IdempotencyRecord {
                content_type,
                body: String::from_utf8_lossy(&stored_body).into_owned(),
            };
            let plain = serde_json::to_vec(&record).unwrap_or_default();
            let sealed = st.master()?.seal(&seal_context(&principal, &key), &plain)?;
            st.store.write(|tx| {
                tx.complete_idempotent_request(&principal, &key, status.as_u16(), &sealed)
            })
        };
        result.map_err(ApiError::from)
    })
    .await?;
    Ok(Response::from_parts(resp_parts, AxumBody::from(body)))
}

fn seal_context(principal: &str, key: &str) -> String {
    format!("idempotency:{principal}:{key}")
}

fn replay(
    st: &AppState,
    principal: &str,
    key: &str,
    status: u16,
    sealed: &[u8],
) -> Result<Response, ApiError> {
    let plain = st.master()?.open(&seal_context(principal, key), sealed)?;
    let record: IdempotencyRecord = serde_json::from_slice(&plain)
        .map_err(|_| ApiError::internal("a stored idempotent response is unreadable"))?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut resp = (status, record.body).into_response();
    if let Ok(ct) = HeaderValue::from_str(&record.content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

//! Errors as `application/problem+json` (RFC 9457) with a stable machine `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::control::ControlError;
use crate::model::Problem;

/// An error answer: status, stable code, message, and optionally a hint and the field at fault.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub hint: Option<String>,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            detail: detail.into(),
            hint: None,
            field: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    /// The same error as 422 Unprocessable Entity (well-formed, but refused as a whole).
    pub fn unprocessable(mut self) -> Self {
        self.status = StatusCode::UNPROCESSABLE_ENTITY;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The org in the path is not the caller's: as if it did not exist.
    pub fn org_not_found(org: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("org '{org}' does not exist"),
        )
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        let detail = e.to_string();
        let (status, code, hint) = match e {
            ControlError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_input", None),
            ControlError::NotFound { hint, .. } => (StatusCode::NOT_FOUND, "not_found", hint),
            ControlError::Conflict { hint, .. } => (StatusCode::CONFLICT, "conflict", hint),
            ControlError::Store { hint, .. } => (StatusCode::SERVICE_UNAVAILABLE, "database", hint),
            ControlError::MasterKey { hint, .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "master_key_missing",
                hint,
            ),
            ControlError::Crypto(_) => (StatusCode::INTERNAL_SERVER_ERROR, "key_material", None),
            ControlError::Unauthenticated { code, hint, .. } => {
                (StatusCode::UNAUTHORIZED, code, hint)
            }
            ControlError::Forbidden { hint, .. } => (StatusCode::FORBIDDEN, "forbidden", hint),
        };
        ApiError {
            status,
            code: code.to_string(),
            detail,
            hint,
            field: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.code, detail = %self.detail, "request failed");
        }
        let problem = Problem {
            kind: "about:blank".into(),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            hint: self.hint,
            field: self.field,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tok\""),
            );
        }
        resp
    }
}

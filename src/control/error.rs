//! The control plane's typed errors; the CLI maps them once to exit codes and hints.

use crate::error::Error;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Bad input: a name, an expiry, an option that does not fit.
    #[error("{0}")]
    Invalid(String),
    /// The named thing does not exist; `hint` names the command that creates it.
    #[error("{what} '{name}' does not exist")]
    NotFound {
        what: &'static str,
        name: String,
        hint: Option<String>,
    },
    /// A name already taken, or a delete refused while other things depend on it.
    #[error("{message}")]
    Conflict {
        message: String,
        hint: Option<String>,
    },
    /// The database is unusable (corrupt, newer than this binary, locked too long).
    #[error("{message}")]
    Store {
        message: String,
        hint: Option<String>,
    },
    /// The master key that seals signing keys cannot be had.
    #[error("{message}")]
    MasterKey {
        message: String,
        hint: Option<String>,
    },
    /// Key material could not be used (sealing, unsealing, signing).
    #[error("{0}")]
    Crypto(String),
    /// No valid credential: wrong password, locked account, unknown or expired session.
    #[error("{message}")]
    Unauthenticated {
        code: &'static str,
        message: String,
        hint: Option<String>,
    },
    /// Authenticated, but the caller's roles do not grant this; the message names the
    /// action and resource missing.
    #[error("{message}")]
    Forbidden {
        message: String,
        hint: Option<String>,
    },
}

pub type ControlResult<T> = Result<T, ControlError>;

impl ControlError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ControlError::Invalid(message.into())
    }

    pub fn store(message: impl Into<String>) -> Self {
        ControlError::Store {
            message: message.into(),
            hint: None,
        }
    }

    pub fn conflict(message: impl Into<String>, hint: Option<String>) -> Self {
        ControlError::Conflict {
            message: message.into(),
            hint,
        }
    }
}

impl From<ControlError> for Error {
    fn from(e: ControlError) -> Self {
        let message = e.to_string();
        match e {
            ControlError::Invalid(_) => Error::usage(message),
            ControlError::NotFound { hint, .. } => with_hint(Error::not_found(message), hint),
            ControlError::Conflict { hint, .. } => with_hint(Error::conflict(message), hint),
            ControlError::Store { hint, .. } => {
                with_hint(Error::other(message).with_code("database"), hint)
            }
            ControlError::MasterKey { hint, .. } => {
                with_hint(Error::other(message).with_code("master_key_missing"), hint)
            }
            ControlError::Crypto(_) => Error::other(message).with_code("key_material"),
            ControlError::Unauthenticated { code, hint, .. } => {
                with_hint(Error::denied(message).with_code(code), hint)
            }
            ControlError::Forbidden { hint, .. } => {
                with_hint(Error::denied(message).with_code("forbidden"), hint)
            }
        }
    }
}

fn with_hint(err: Error, hint: Option<String>) -> Error {
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

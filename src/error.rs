//! The one error type the CLI reports: a kind that picks the exit code, a stable
//! machine code, a message, and an optional hint naming the next step.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, as far as a script is concerned: each kind has one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Exit 1: anything not covered below.
    Other,
    /// Exit 2: usage error, invalid input, or confirmation required but not given.
    Usage,
    /// Exit 3: the named thing does not exist.
    NotFound,
    /// Exit 4: not authenticated, not allowed, or a credential that does not verify.
    Denied,
    /// Exit 5: conflict or already exists.
    Conflict,
    /// Exit 6: cannot reach the server.
    Unreachable,
    /// Exit 130: cancelled at a prompt; nothing was changed.
    Cancelled,
    /// Exit 0, silently: stdout was closed by the reader (`tok … | head -1`).
    BrokenPipe,
}

impl ErrorKind {
    /// The exit code from the table in DESIGN.md.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Other => 1,
            ErrorKind::Usage => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Denied => 4,
            ErrorKind::Conflict => 5,
            ErrorKind::Unreachable => 6,
            ErrorKind::Cancelled => 130,
            ErrorKind::BrokenPipe => 0,
        }
    }

    /// The default machine code for this kind, used when no finer one is given.
    pub fn default_code(self) -> &'static str {
        match self {
            ErrorKind::Other => "internal",
            ErrorKind::Usage => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Denied => "forbidden",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::BrokenPipe => "broken_pipe",
        }
    }
}

/// An error as the user sees it. Messages never carry secrets.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: Cow<'static, str>,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            code: Cow::Borrowed(kind.default_code()),
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, message)
    }

    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }

    /// Replaces the machine code (`{"error":{"code":…}}`) with a finer one.
    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = code.into();
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// An I/O failure while doing `what`; a closed stdout becomes a quiet exit.
    pub fn io(what: impl fmt::Display, err: &std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            return Self::new(ErrorKind::BrokenPipe, "stdout closed");
        }
        Self::other(format!("{what}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

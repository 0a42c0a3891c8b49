//! The one error type of the crate, with a [`ErrorKind`] classifier that the
//! client, the CLI and the bindings map on.

use std::fmt;

/// What went wrong, coarsely: the thing callers branch on.
///
/// Classification of API answers is by `statusCode` (`docs/protocol.md` §7), never by
/// message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The query or a setting is invalid; nothing was sent (or the server
    /// rejected a parameter, codes 400xx).
    Validation,
    /// Credentials were refused (40005, 40301, 6001, HTTP 401/403).
    Auth,
    /// The server answered `50000` (interface frequency limited) or HTTP 429
    /// and retries did not get past it.
    RateLimited,
    /// The account's request quota is exhausted (40913). Not retried.
    Quota,
    /// A server fault (code 501, HTTP 5xx).
    Server,
    /// The request did not complete: connect failure, reset, timeout.
    Transport,
    /// The body could not be decoded (truncated or not the documented shape).
    Decode,
    /// Any other API answer with `result: false`.
    Api,
}

impl ErrorKind {
    /// A stable `snake_case` name: `validation`, `auth`, `rate_limited`,
    /// `quota`, `server`, `transport`, `decode`, `api`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Quota => "quota",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
            ErrorKind::Decode => "decode",
            ErrorKind::Api => "api",
        }
    }

    /// Whether a request that failed this way may succeed if sent again.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Transport | ErrorKind::Decode)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// An error from building, encoding, decoding or driving a query.
///
/// The message never contains the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    api_code: Option<i64>,
    http_status: Option<u16>,
    field: Option<&'static str>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), api_code: None, http_status: None, field: None }
    }

    /// A validation error about one query field (named in `snake_case`, the
    /// way the Rust builder and the Python API spell it).
    pub fn validation(field: &'static str, reason: impl fmt::Display) -> Self {
        Error { field: Some(field), ..Error::new(ErrorKind::Validation, format!("invalid {field}: {reason}")) }
    }

    /// A transport failure reported by a driver.
    pub fn transport(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Transport, message)
    }

    pub(crate) fn with_api_code(mut self, code: i64) -> Self {
        self.api_code = Some(code);
        self
    }

    pub(crate) fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// Appends a hint to the message (for example which region was asked).
    pub(crate) fn with_hint(mut self, hint: impl fmt::Display) -> Self {
        self.message = format!("{} — {hint}", self.message);
        self
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// The coarse class of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (also the `Display` form).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The API's `statusCode` when the server answered with one.
    pub fn api_code(&self) -> Option<i64> {
        self.api_code
    }

    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// For validation errors raised before sending: the field at fault.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

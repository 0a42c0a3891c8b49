//! The one error type of the crate, with a [`ErrorKind`] classifier that the
//! client, the CLI and the bindings map on, and the structure below it: why
//! a value was refused ([`ValidationReason`]), how a request failed below
//! HTTP ([`TransportErrorKind`]). Callers branch on these, never on message
//! text.

use std::fmt;

use crate::settings::Bounds;

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
    /// A bug or a broken invariant of this library (a panic caught, a
    /// poisoned lock, a thread that could not start), not the input nor
    /// the server.
    Internal,
}

impl ErrorKind {
    /// A stable `snake_case` name: `validation`, `auth`, `rate_limited`,
    /// `quota`, `server`, `transport`, `decode`, `api`, `internal`.
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
            ErrorKind::Internal => "internal",
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

/// Why a value was refused before anything was sent (or, for
/// [`ValidationReason::RejectedByServer`], by the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValidationReason {
    /// A required value was not given (credentials, a window).
    Missing,
    /// Given together with a value it excludes (`days` and a date range).
    Conflict,
    /// Half of a pair (a start date without an end date).
    Incomplete,
    /// A number outside its bounds (see [`Bounds`]).
    OutOfRange,
    /// Not the expected form or type (a date, a URL, an address, a cursor).
    Malformed,
    /// Not one of the accepted names (a region, a status, a method).
    UnknownName,
    /// At odds with another value (a start date after the end date, a
    /// sub-status of another status, a cursor of another query).
    Contradiction,
    /// The server refused the parameter (a `400xx` code): a request went out.
    RejectedByServer,
    /// Any other reason: the message says which.
    Other,
}

impl ValidationReason {
    /// A stable `snake_case` name: `missing`, `conflict`, `incomplete`,
    /// `out_of_range`, `malformed`, `unknown_name`, `contradiction`,
    /// `rejected_by_server`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationReason::Missing => "missing",
            ValidationReason::Conflict => "conflict",
            ValidationReason::Incomplete => "incomplete",
            ValidationReason::OutOfRange => "out_of_range",
            ValidationReason::Malformed => "malformed",
            ValidationReason::UnknownName => "unknown_name",
            ValidationReason::Contradiction => "contradiction",
            ValidationReason::RejectedByServer => "rejected_by_server",
            ValidationReason::Other => "other",
        }
    }
}

impl fmt::Display for ValidationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The server refused the connection (nothing listens there).
    Refused,
    /// Could not connect for another reason (unreachable, a proxy refused).
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection was closed or reset mid-request.
    ConnectionReset,
    /// The body ended early or could not be read.
    BodyIncomplete,
    /// The TLS handshake failed (certificate, protocol). Not retried.
    Tls,
    /// Anything else that may pass on a new attempt.
    Other,
    /// Another failure that another attempt cannot fix (an invalid request
    /// or proxy setting, a body over the size limit). Not retried.
    Fatal,
}

impl TransportErrorKind {
    /// A stable `snake_case` name: `dns`, `refused`, `connect`, `timeout`,
    /// `connection_reset`, `body_incomplete`, `tls`, `other`, `fatal`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportErrorKind::Dns => "dns",
            TransportErrorKind::Refused => "refused",
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::ConnectionReset => "connection_reset",
            TransportErrorKind::BodyIncomplete => "body_incomplete",
            TransportErrorKind::Tls => "tls",
            TransportErrorKind::Other => "other",
            TransportErrorKind::Fatal => "fatal",
        }
    }

    /// Whether another attempt may get past it.
    pub fn is_retryable(self) -> bool {
        !matches!(self, TransportErrorKind::Tls | TransportErrorKind::Fatal)
    }

    /// What happened, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            TransportErrorKind::Dns => "the host name did not resolve",
            TransportErrorKind::Refused => "the connection was refused",
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "the request timed out",
            TransportErrorKind::ConnectionReset => "the connection was reset",
            TransportErrorKind::BodyIncomplete => "the response body was incomplete",
            TransportErrorKind::Tls => "the TLS handshake failed (not retried)",
            TransportErrorKind::Other => "transport error",
            TransportErrorKind::Fatal => "transport error (not retried)",
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from building, encoding, decoding or driving a query.
///
/// The message never contains the API key. Besides the message it carries
/// structure to branch on: [`Error::kind`], and for validation errors
/// [`Error::field`] and [`Error::validation_reason`], for transport errors
/// [`Error::transport_kind`].
///
/// ```
/// use sendcloud_status_core::{Query, ValidationReason};
/// let err = Query::builder().days(0).build().unwrap_err();
/// assert_eq!(err.field(), Some("days"));
/// assert_eq!(err.validation_reason(), Some(ValidationReason::OutOfRange));
/// assert_eq!(err.message(), "invalid days: must be from 1 to 3660, got 0");
/// assert_eq!(err.explanation(), "must be from 1 to 3660, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// Where the explanation starts in `message` (after `invalid <field>: `).
    explanation_at: usize,
    api_code: Option<i64>,
    http_status: Option<u16>,
    field: Option<&'static str>,
    reason: Option<ValidationReason>,
    transport: Option<TransportErrorKind>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            explanation_at: 0,
            api_code: None,
            http_status: None,
            field: None,
            reason: None,
            transport: None,
        }
    }

    /// A validation error about one value, named in `snake_case` (the way
    /// the Rust builders and the Python API spell it), for a reason the
    /// explanation gives ([`ValidationReason::Other`]).
    pub fn validation(field: &'static str, explanation: impl fmt::Display) -> Self {
        Error::invalid_value(field, ValidationReason::Other, explanation)
    }

    /// A validation error about one value, with its reason.
    pub fn invalid_value(field: &'static str, reason: ValidationReason, explanation: impl fmt::Display) -> Self {
        let prefix = format!("invalid {field}: ");
        Error {
            explanation_at: prefix.len(),
            field: Some(field),
            reason: Some(reason),
            ..Error::new(ErrorKind::Validation, format!("{prefix}{explanation}"))
        }
    }

    /// A number outside `bounds`: "must be from 1 to 64, got 65".
    pub fn out_of_range(field: &'static str, bounds: Bounds, got: impl fmt::Display) -> Self {
        Error::invalid_value(field, ValidationReason::OutOfRange, format!("must be {bounds}, got {got}"))
    }

    /// A transport failure reported by a driver, without detail.
    pub fn transport(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Transport, message)
    }

    /// A transport failure of a known kind.
    pub fn transport_failure(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Error { transport: Some(kind), ..Error::new(ErrorKind::Transport, message) }
    }

    /// A bug or broken invariant of this library.
    pub fn internal(message: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Internal, format!("internal error: {message}"))
    }

    pub(crate) fn with_api_code(mut self, code: i64) -> Self {
        self.api_code = Some(code);
        self
    }

    /// A parameter the server refused (`field` when the code names it).
    pub(crate) fn rejected_by_server(mut self, field: Option<&'static str>) -> Self {
        self.field = field;
        self.reason = Some(ValidationReason::RejectedByServer);
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

    /// The message without the `invalid <field>: ` prefix of validation
    /// errors ("must be from 1 to 64, got 65"): for callers that name the
    /// field their own way (a command-line flag, a JS option). The whole
    /// message for other errors.
    pub fn explanation(&self) -> &str {
        &self.message[self.explanation_at..]
    }

    /// The API's `statusCode` when the server answered with one.
    pub fn api_code(&self) -> Option<i64> {
        self.api_code
    }

    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// For validation errors: the field at fault, in `snake_case`.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// For validation errors: why the value was refused.
    pub fn validation_reason(&self) -> Option<ValidationReason> {
        self.reason
    }

    /// For transport errors: how the request failed, when the driver said.
    pub fn transport_kind(&self) -> Option<TransportErrorKind> {
        self.transport
    }

    /// The detail below [`Error::kind`] as a stable `snake_case` name: the
    /// [`ValidationReason`] of a validation error, the
    /// [`TransportErrorKind`] of a transport error. What the bindings
    /// expose as `reason`.
    pub fn reason(&self) -> Option<&'static str> {
        self.reason.map(ValidationReason::as_str).or(self.transport.map(TransportErrorKind::as_str))
    }

    /// Whether a request was refused before anything was sent: a validation
    /// error of this library, not a parameter the server rejected.
    pub fn is_before_sending(&self) -> bool {
        self.kind == ErrorKind::Validation && self.reason != Some(ValidationReason::RejectedByServer)
    }

    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable() && self.transport.is_none_or(TransportErrorKind::is_retryable)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_keep_field_reason_and_explanation_apart() {
        let e = Error::invalid_value("days", ValidationReason::OutOfRange, "must be from 1 to 3660, got 0");
        assert_eq!(e.message(), "invalid days: must be from 1 to 3660, got 0");
        assert_eq!(e.explanation(), "must be from 1 to 3660, got 0");
        assert_eq!((e.field(), e.reason()), (Some("days"), Some("out_of_range")));
        assert!(e.is_before_sending());
        // A hint keeps the explanation whole.
        assert_eq!(e.with_hint("see --help").explanation(), "must be from 1 to 3660, got 0 — see --help");
        let plain = Error::transport("refused");
        assert_eq!((plain.explanation(), plain.reason()), ("refused", None));
    }

    #[test]
    fn transport_detail_decides_retries() {
        let tls = Error::transport_failure(TransportErrorKind::Tls, "bad certificate");
        assert_eq!((tls.kind(), tls.reason()), (ErrorKind::Transport, Some("tls")));
        assert!(!tls.is_retryable());
        let dns = Error::transport_failure(TransportErrorKind::Dns, "no such host");
        assert!(dns.is_retryable());
        assert_eq!(dns.transport_kind(), Some(TransportErrorKind::Dns));
        let internal = Error::internal("a lock was poisoned");
        assert_eq!((internal.kind().as_str(), internal.is_retryable()), ("internal", false));
        assert!(internal.message().starts_with("internal error: "));
    }
}

//! Core errors → the Python exception classes of `sendcloud_status.errors`,
//! chosen by [`ErrorKind`]. The Rust error itself is attached as
//! `__cause__` (a `NativeError` carrying its `Debug` form, which like every
//! message of the core never contains the API key).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use sendcloud_status::core::webhook::WebhookError;
use sendcloud_status::{Error, ErrorKind, ValidationReason};

pyo3::create_exception!(
    sendcloud_status._native,
    NativeError,
    pyo3::exceptions::PyException,
    "The Rust error behind a sendcloud_status exception, attached as its __cause__."
);

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python class for each kind (all defined in `sendcloud_status/errors.py`;
/// the Node package names its classes the same).
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "ValidationError",
        ErrorKind::Auth => "AuthenticationError",
        ErrorKind::RateLimited => "RateLimitError",
        ErrorKind::Quota => "QuotaError",
        ErrorKind::Server => "ServerError",
        ErrorKind::Transport => "TransportError",
        ErrorKind::Decode => "DecodeError",
        ErrorKind::Api => "ApiError",
        ErrorKind::Internal => "InternalError",
        _ => "SendCloudError",
    }
}

/// The Python exception for a core error, its cause chained.
pub(crate) fn to_py_err(py: Python<'_>, err: &Error) -> PyErr {
    let cause = NativeError::new_err(format!("{err:?}"));
    match build(py, err) {
        Ok(e) => {
            e.set_cause(py, Some(cause));
            e
        }
        // The Python package is missing (the extension imported on its
        // own): the native error still carries everything.
        Err(_) => cause,
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let details = Details {
        kind: err.kind().as_str(),
        code: err.api_code(),
        http_status: err.http_status(),
        field: err.field(),
        reason: err.reason(),
        retryable: err.is_retryable(),
    };
    instance(py, class_name(err.kind()), err.message(), &details)
}

/// What an exception of `sendcloud_status.errors` carries besides its message.
struct Details<'a> {
    kind: &'a str,
    code: Option<i64>,
    http_status: Option<u16>,
    field: Option<&'a str>,
    reason: Option<&'a str>,
    retryable: bool,
}

fn instance(py: Python<'_>, class: &str, message: &str, d: &Details<'_>) -> PyResult<PyErr> {
    let module = ERRORS_MODULE.get_or_try_init(py, || py.import("sendcloud_status.errors").map(Bound::unbind))?;
    let class = module.bind(py).getattr(class)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", d.kind)?;
    kwargs.set_item("code", d.code)?;
    kwargs.set_item("http_status", d.http_status)?;
    kwargs.set_item("field", d.field)?;
    kwargs.set_item("reason", d.reason)?;
    kwargs.set_item("retryable", d.retryable)?;
    let value = class.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(value))
}

/// The Python exception for an archive error: the client's errors as
/// [`to_py_err`] maps them, archive failures as the `Archive…Error` classes
/// (their `kind` names the case; `field` is `"path"` when the file is at
/// fault). Messages name the file, never a key (the archive never sees one).
pub(crate) fn archive_err(py: Python<'_>, err: &sendcloud_status_archive::Error) -> PyErr {
    use sendcloud_status_archive::Error as A;
    let (class, kind, field, message) = match err {
        A::Api(e) => return to_py_err(py, e),
        A::Busy { .. } => ("ArchiveBusyError", "archive_busy", None, err.to_string()),
        A::Missing { path } => (
            "ArchiveMissingError",
            "archive_missing",
            Some("path"),
            format!("no archive at {}: sync into it first", path.display()),
        ),
        A::NotAnArchive { .. } => ("NotAnArchiveError", "not_an_archive", Some("path"), err.to_string()),
        A::NewerSchema { .. } => ("ArchiveVersionError", "archive_version", Some("path"), err.to_string()),
        A::Unsupported(_) => ("ValidationError", "validation", None, err.to_string()),
        A::Cancelled => ("ArchiveError", "cancelled", None, err.to_string()),
        _ => ("ArchiveError", "archive", None, err.to_string()),
    };
    let details =
        Details { kind, code: None, http_status: None, field, reason: None, retryable: matches!(err, A::Busy { .. }) };
    let cause = NativeError::new_err(format!("{err:?}"));
    match instance(py, class, &message, &details) {
        Ok(e) => {
            e.set_cause(py, Some(cause));
            e
        }
        Err(_) => cause,
    }
}

/// The Python exception for a refused webhook delivery: `WebhookMalformedError`
/// (also a `ValueError`), `WebhookSignatureError` or `WebhookStaleError`
/// (with `skew_ms` and `tolerance_ms`), `kind` and `http_status` from the
/// core. The core's messages never hold the app key.
pub(crate) fn webhook_err(py: Python<'_>, err: &WebhookError) -> PyErr {
    let cause = NativeError::new_err(format!("{err:?}"));
    let built = (|| -> PyResult<PyErr> {
        let class = match err {
            WebhookError::Malformed(_) => "WebhookMalformedError",
            WebhookError::BadSignature => "WebhookSignatureError",
            WebhookError::Stale { .. } => "WebhookStaleError",
            _ => "WebhookError",
        };
        let module = ERRORS_MODULE.get_or_try_init(py, || py.import("sendcloud_status.errors").map(Bound::unbind))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("kind", err.kind())?;
        kwargs.set_item("http_status", err.http_status())?;
        if let WebhookError::Stale { skew_ms, tolerance } = err {
            kwargs.set_item("skew_ms", *skew_ms)?;
            kwargs.set_item("tolerance_ms", u64::try_from(tolerance.as_millis()).unwrap_or(u64::MAX))?;
        }
        let value = module.bind(py).getattr(class)?.call((err.to_string(),), Some(&kwargs))?;
        Ok(PyErr::from_value(value))
    })();
    match built {
        Ok(e) => {
            e.set_cause(py, Some(cause));
            e
        }
        Err(_) => cause,
    }
}

/// A validation error about the Python type or shape of one argument,
/// raised before anything is sent.
pub(crate) fn validation(py: Python<'_>, field: &'static str, explanation: impl std::fmt::Display) -> PyErr {
    to_py_err(py, &Error::invalid_value(field, ValidationReason::Malformed, explanation))
}

/// `?`-friendly conversion of archive results.
pub(crate) trait OrRaiseArchive<T> {
    fn or_raise_archive(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaiseArchive<T> for sendcloud_status_archive::Result<T> {
    fn or_raise_archive(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| archive_err(py, &e))
    }
}

/// `?`-friendly conversion of core results.
pub(crate) trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for sendcloud_status::Result<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, &e))
    }
}

//! Core errors → the Python exception classes of `sendcloud_status.errors`,
//! chosen by [`ErrorKind`]. The Rust error itself is attached as
//! `__cause__` (a `NativeError` carrying its `Debug` form, which like every
//! message of the core never contains the API key).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use sendcloud_status::{Error, ErrorKind};

pyo3::create_exception!(
    sendcloud_status._native,
    NativeError,
    pyo3::exceptions::PyException,
    "The Rust error behind a sendcloud_status exception, attached as its __cause__."
);

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python class for each kind (all defined in `sendcloud_status/errors.py`).
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
    let module = ERRORS_MODULE.get_or_try_init(py, || py.import("sendcloud_status.errors").map(Bound::unbind))?;
    let class = module.bind(py).getattr(class_name(err.kind()))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", err.kind().as_str())?;
    kwargs.set_item("code", err.api_code())?;
    kwargs.set_item("http_status", err.http_status())?;
    kwargs.set_item("field", err.field())?;
    kwargs.set_item("retryable", err.is_retryable())?;
    let value = class.call((err.message(),), Some(&kwargs))?;
    Ok(PyErr::from_value(value))
}

/// A validation error about one argument, raised before anything is sent.
pub(crate) fn validation(py: Python<'_>, field: &'static str, reason: impl std::fmt::Display) -> PyErr {
    to_py_err(py, &Error::validation(field, reason))
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

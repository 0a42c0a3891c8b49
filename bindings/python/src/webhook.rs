//! Event webhooks: `verify_webhook`, a thin call of the core's
//! [`Verifier::verify`](sendcloud_status::core::webhook::Verifier::verify).
//! Pure and fast (no I/O), so the GIL is kept. Whether the token was seen
//! before is the Python package's last step (`token in seen`), exactly where
//! the core checks it: after the parse, the signature and the age.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString, PyTuple};
use sendcloud_status::chrono::{TimeZone, Utc};
use sendcloud_status::core::webhook::{AppKey, DEFAULT_TOLERANCE, Verifier};

use crate::convert::json;
use crate::errors::{NativeError, OrRaise, validation, webhook_err};

/// The core's default tolerance, in seconds.
pub(crate) fn default_tolerance_seconds() -> f64 {
    DEFAULT_TOLERANCE.as_secs_f64()
}

/// Parses and checks one delivery: the event as the tuple documented in
/// `_native.pyi` (`WebhookTuple`), or a `Webhook…Error` raised. `now_ms`
/// defaults to the clock; `tolerance_ms` to the core's default.
#[pyfunction]
#[pyo3(signature = (body, app_key, now_ms=None, tolerance_ms=None))]
pub(crate) fn verify_webhook<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    app_key: &str,
    now_ms: Option<i64>,
    tolerance_ms: Option<u64>,
) -> PyResult<Bound<'py, PyTuple>> {
    let bytes: Vec<u8> = if let Ok(b) = body.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(b) = body.cast::<PyByteArray>() {
        b.to_vec()
    } else if let Ok(s) = body.cast::<PyString>() {
        s.to_cow()?.as_bytes().to_vec()
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err("body must be bytes or str"));
    };
    let key = AppKey::new(app_key).or_raise(py)?;
    let now = match now_ms {
        None => Utc::now(),
        Some(ms) => Utc.timestamp_millis_opt(ms).single().ok_or_else(|| validation(py, "now", "is out of range"))?,
    };
    let verifier = Verifier::new(key).with_tolerance(tolerance_ms.map_or(DEFAULT_TOLERANCE, Duration::from_millis));
    let verdict = catch_unwind(AssertUnwindSafe(|| verifier.verify(&bytes, now, &HashSet::<String>::new())))
        .map_err(|_| NativeError::new_err("sendcloud-status: internal error: panic while verifying a webhook"))?;
    let event = verdict.map_err(|e| webhook_err(py, &e))?.into_event();
    let extra = PyDict::new(py);
    for (k, v) in &event.extra {
        extra.set_item(k, json(py, v)?)?;
    }
    let items: [Bound<'py, PyAny>; 15] = [
        event.kind.name().into_pyobject(py)?.into_any(),
        event.event.as_str().into_pyobject(py)?.into_any(),
        event.category().map(|c| c.name()).into_pyobject(py)?.into_any(),
        event.email_id.as_str().into_pyobject(py)?.into_any(),
        event.recipient.as_deref().into_pyobject(py)?.into_any(),
        event.api_user.as_deref().into_pyobject(py)?.into_any(),
        event.label_id.into_pyobject(py)?.into_any(),
        event.label_name.as_deref().into_pyobject(py)?.into_any(),
        event.timestamp.as_str().into_pyobject(py)?.into_any(),
        event.time.timestamp_millis().into_pyobject(py)?.into_any(),
        event.token.as_str().into_pyobject(py)?.into_any(),
        event.signature.as_str().into_pyobject(py)?.into_any(),
        event.sub_status.map(|s| s.code()).into_pyobject(py)?.into_any(),
        event.message.as_deref().into_pyobject(py)?.into_any(),
        extra.into_any(),
    ];
    PyTuple::new(py, items)
}

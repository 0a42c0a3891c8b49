//! Core values → Python values. Records become plain tuples that the
//! Python package turns into `Record` objects (see `_native.pyi` for the
//! layout); times become timezone-aware `datetime`s.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use sendcloud_status::{ExportStats, Page, Record, ServerTime};

/// `(datetime | None, text | None)`: the parsed time, and the canonical text
/// (RFC 3339 with the server offset, or the raw text when it did not parse).
fn time<'py>(py: Python<'py>, t: Option<&ServerTime>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    match t {
        None => Ok((py.None().into_bound(py), py.None().into_bound(py))),
        Some(t) => {
            let dt = t.datetime().into_pyobject(py)?.into_any();
            let text = t.to_rfc3339_or_raw().into_pyobject(py)?.into_any();
            Ok((dt, text))
        }
    }
}

/// One record as the 16-tuple documented in `_native.pyi` (`RecordTuple`).
pub(crate) fn record<'py>(py: Python<'py>, r: &Record) -> PyResult<Bound<'py, PyTuple>> {
    let (request_time, request_text) = time(py, r.request_time.as_ref())?;
    let (modified_time, modified_text) = time(py, r.modified_time.as_ref())?;
    let extra = PyDict::new(py);
    for (k, v) in &r.extra {
        extra.set_item(k, json(py, v)?)?;
    }
    let items: [Bound<'py, PyAny>; 16] = [
        r.email_id.as_deref().into_pyobject(py)?.into_any(),
        r.status.as_deref().into_pyobject(py)?.into_any(),
        r.category.name().into_pyobject(py)?.into_any(),
        r.sub_status.map(|s| s.code()).into_pyobject(py)?.into_any(),
        r.sub_status_description.as_deref().into_pyobject(py)?.into_any(),
        r.api_user.as_deref().into_pyobject(py)?.into_any(),
        r.recipient.as_deref().into_pyobject(py)?.into_any(),
        request_time,
        request_text,
        modified_time,
        modified_text,
        r.send_log.as_deref().into_pyobject(py)?.into_any(),
        extra.into_any(),
        r.is_hard_bounce().into_pyobject(py)?.to_owned().into_any(),
        r.is_soft_bounce().into_pyobject(py)?.to_owned().into_any(),
        r.should_suppress().into_pyobject(py)?.to_owned().into_any(),
    ];
    PyTuple::new(py, items)
}

/// Records as a list of record tuples.
pub(crate) fn records<'py>(py: Python<'py>, records: &[Record]) -> PyResult<Bound<'py, PyList>> {
    let items = records.iter().map(|r| record(py, r)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// `(total, records, (window, chunk, offset), (first_day, last_day) | None, rows_received)`.
pub(crate) fn page<'py>(py: Python<'py>, page: &Page) -> PyResult<Bound<'py, PyTuple>> {
    let position = (page.position.window, page.position.chunk, page.position.offset);
    (page.total, records(py, &page.records)?, position, page.window, page.rows_received).into_pyobject(py)
}

/// Export counters as a dict.
pub(crate) fn stats<'py>(py: Python<'py>, s: &ExportStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("requests", s.requests)?;
    d.set_item("retries", s.retries)?;
    d.set_item("rate_limited", s.rate_limited)?;
    d.set_item("failures", s.failures)?;
    d.set_item("records", s.records)?;
    d.set_item("duplicates", s.duplicates)?;
    d.set_item("pages", s.pages)?;
    Ok(d)
}

/// A JSON value (a record's `extra` fields) as Python objects.
fn json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            PyList::new(py, items.iter().map(|i| json(py, i)).collect::<PyResult<Vec<_>>>()?)?.into_any()
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, v) in map {
                d.set_item(k, json(py, v)?)?;
            }
            d.into_any()
        }
    })
}

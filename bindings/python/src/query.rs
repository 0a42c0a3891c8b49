//! Python keyword filters → a core [`Query`] through [`Query::builder`], which
//! does every check. Only argument shapes are handled here: `None` means
//! unset, dates may be `datetime.date` or ISO strings, lists any iterable,
//! enums their values.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use sendcloud_status::{Query, Status, ValidationReason};

use crate::errors::{OrRaise, validation};

/// The filter names accepted by `page`, `export` and `encode_query`.
pub(crate) const FILTERS: [&str; 12] = [
    "days",
    "start_date",
    "end_date",
    "email",
    "email_ids",
    "label_id",
    "label_name",
    "api_users",
    "status",
    "sub_status",
    "start",
    "limit",
];

/// Builds and validates a query from keyword arguments.
pub(crate) fn build_query(py: Python<'_>, filters: Option<&Bound<'_, PyDict>>) -> PyResult<Query> {
    let mut b = Query::builder();
    for (key, value) in filters.into_iter().flat_map(|f| f.iter()) {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let v = &value;
        b = match key.as_str() {
            "days" => b.days(int(py, "days", v)?),
            // "Both or neither" is the builder's check.
            "start_date" => b.start_date_str(&date(py, "start_date", v)?),
            "end_date" => b.end_date_str(&date(py, "end_date", v)?),
            "email" => b.email(string(py, "email", v)?),
            "email_ids" => b.email_ids(strings(py, "email_ids", v)?),
            "label_id" => b.label_id(int(py, "label_id", v)?),
            "label_name" => b.label_name(string(py, "label_name", v)?),
            "api_users" => b.api_users(strings(py, "api_users", v)?),
            "status" => b.status(status(py, v)?),
            "sub_status" => b.sub_status(codes(py, v)?),
            "start" => b.start(int(py, "start", v)?),
            "limit" => b.limit(int(py, "limit", v)?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected filter {other:?}; the filters are {}",
                    FILTERS.join(", ")
                )));
            }
        };
    }
    b.build().or_raise(py)
}

/// An integer (not a bool, not a float).
pub(crate) fn int(py: Python<'_>, field: &'static str, v: &Bound<'_, PyAny>) -> PyResult<i64> {
    if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        return Err(validation(py, field, format!("must be an integer, got {}", type_name(v))));
    }
    v.extract::<i64>().map_err(|_| {
        let error = sendcloud_status::Error::invalid_value(field, ValidationReason::OutOfRange, "is out of range");
        crate::errors::to_py_err(py, &error)
    })
}

pub(crate) fn string(py: Python<'_>, field: &'static str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    v.extract::<String>().map_err(|_| validation(py, field, format!("must be a string, got {}", type_name(v))))
}

/// A `datetime.date` (anything with `isoformat()`) or a `yyyy-MM-dd` string.
pub(crate) fn date(py: Python<'_>, field: &'static str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_string());
    }
    let bad = || validation(py, field, format!("must be a datetime.date or a yyyy-MM-dd string, got {}", type_name(v)));
    if !v.hasattr("isoformat").unwrap_or(false) {
        return Err(bad());
    }
    v.call_method0("isoformat").and_then(|s| s.extract::<String>()).map_err(|_| bad())
}

/// One string, or an iterable of strings.
pub(crate) fn strings(py: Python<'_>, field: &'static str, v: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(vec![s.to_string()]);
    }
    let not_list =
        || validation(py, field, format!("must be a string or an iterable of strings, got {}", type_name(v)));
    let iter = v.try_iter().map_err(|_| not_list())?;
    iter.map(|item| item.map_err(|_| not_list()).and_then(|item| string(py, field, &item))).collect()
}

/// A `Status` member or name (`"soft_bounce"`), or a wire code (`5`).
fn status(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Status> {
    if let Ok(s) = v.cast::<PyString>() {
        return s.to_cow()?.parse::<Status>().or_raise(py);
    }
    let code = int(py, "status", v)?;
    u8::try_from(code)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| validation(py, "status", format!("{code} is not one of the codes 1, 4, 5, 18")))
}

/// One code, or an iterable of codes (ints or `SubStatus` members).
fn codes(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        return Ok(vec![int(py, "sub_status", v)?]);
    }
    let not_list = || validation(py, "sub_status", format!("must be an iterable of integers, got {}", type_name(v)));
    if v.is_instance_of::<PyString>() {
        return Err(not_list());
    }
    let iter = v.try_iter().map_err(|_| not_list())?;
    iter.map(|item| item.map_err(|_| not_list()).and_then(|item| int(py, "sub_status", &item))).collect()
}

pub(crate) fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an unknown type".to_owned())
}

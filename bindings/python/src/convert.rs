//! Core values → Python values. Records become plain tuples that the
//! Python package turns into `Record` objects (see `_native.pyi` for the
//! layout); times become timezone-aware `datetime`s.

use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict, PyList, PyTuple, PyTzInfo};
use sendcloud_status::chrono::{Datelike, FixedOffset, Timelike};
use sendcloud_status::{ExportStats, Page, Record, ServerTime};

/// Builds `datetime`s that share one `tzinfo` object per UTC offset: a new
/// `timezone` per record was the largest cost of converting a record.
pub(crate) struct Times<'py> {
    py: Python<'py>,
    tz: Option<(i32, Bound<'py, PyTzInfo>)>,
}

impl<'py> Times<'py> {
    pub(crate) fn new(py: Python<'py>) -> Self {
        Times { py, tz: None }
    }

    fn tzinfo(&mut self, offset: FixedOffset) -> PyResult<Bound<'py, PyTzInfo>> {
        let seconds = offset.local_minus_utc();
        match &self.tz {
            Some((s, tz)) if *s == seconds => Ok(tz.clone()),
            _ => {
                let tz = offset.into_pyobject(self.py)?;
                self.tz = Some((seconds, tz.clone()));
                Ok(tz)
            }
        }
    }

    /// `(datetime | None, text | None)`: the parsed time, and the canonical
    /// text (RFC 3339 with the server offset, or the raw text when it did not
    /// parse).
    fn convert(&mut self, t: Option<&ServerTime>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let py = self.py;
        let Some(t) = t else { return Ok((py.None().into_bound(py), py.None().into_bound(py))) };
        let text = t.to_rfc3339_or_raw().into_pyobject(py)?.into_any();
        let Some(dt) = t.datetime() else { return Ok((py.None().into_bound(py), text)) };
        let tz = self.tzinfo(*dt.offset())?;
        let local = dt.naive_local();
        let datetime = PyDateTime::new(
            py,
            local.year(),
            local.month() as u8,
            local.day() as u8,
            local.hour() as u8,
            local.minute() as u8,
            local.second() as u8,
            local.nanosecond() / 1000,
            Some(&tz),
        )?;
        Ok((datetime.into_any(), text))
    }
}

/// One record as the 16-tuple documented in `_native.pyi` (`RecordTuple`).
pub(crate) fn record<'py>(times: &mut Times<'py>, r: &Record) -> PyResult<Bound<'py, PyTuple>> {
    let py = times.py;
    let (request_time, request_text) = times.convert(r.request_time.as_ref())?;
    let (modified_time, modified_text) = times.convert(r.modified_time.as_ref())?;
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
        modified_time,
        r.send_log.as_deref().into_pyobject(py)?.into_any(),
        extra.into_any(),
        r.is_hard_bounce().into_pyobject(py)?.to_owned().into_any(),
        r.is_soft_bounce().into_pyobject(py)?.to_owned().into_any(),
        r.should_suppress().into_pyobject(py)?.to_owned().into_any(),
        request_text,
        modified_text,
    ];
    PyTuple::new(py, items)
}

/// Records as a list of record tuples.
pub(crate) fn records<'py>(py: Python<'py>, records: &[Record]) -> PyResult<Bound<'py, PyList>> {
    let mut times = Times::new(py);
    let items = records.iter().map(|r| record(&mut times, r)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// `(total, records, (window, chunk, offset), (first_day, last_day) | None, rows_received)`.
pub(crate) fn page<'py>(py: Python<'py>, page: &Page) -> PyResult<Bound<'py, PyTuple>> {
    let position = (page.position.window, page.position.chunk, page.position.offset);
    (page.total, records(py, &page.records)?, position, page.window, page.rows_received).into_pyobject(py)
}

/// Export counters as a dict (the `ExportStats` TypedDict of the package):
/// integer counters, and `unstable_units` as a list of
/// `{"start": date, "end": date, "chunk": int}`.
pub(crate) fn stats<'py>(py: Python<'py>, s: &ExportStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("requests", s.requests)?;
    d.set_item("retries", s.retries)?;
    d.set_item("rate_limited", s.rate_limited)?;
    d.set_item("failures", s.failures)?;
    d.set_item("records", s.records)?;
    d.set_item("duplicates", s.duplicates)?;
    d.set_item("pages", s.pages)?;
    d.set_item("passes", s.passes)?;
    d.set_item("units_reread", s.units_reread)?;
    d.set_item("total_drift", s.total_drift)?;
    d.set_item("short_pages", s.short_pages)?;
    d.set_item("empty_pages", s.empty_pages)?;
    let units = s
        .unstable_units
        .iter()
        .map(|u| {
            let unit = PyDict::new(py);
            unit.set_item("start", u.start)?;
            unit.set_item("end", u.end)?;
            unit.set_item("chunk", u.chunk)?;
            Ok(unit)
        })
        .collect::<PyResult<Vec<_>>>()?;
    d.set_item("unstable_units", PyList::new(py, units)?)?;
    Ok(d)
}

/// A JSON value (a record's `extra` fields) as Python objects.
pub(crate) fn json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
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

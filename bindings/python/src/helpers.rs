//! The sans-IO core exposed for the conformance vectors and for callers
//! with their own HTTP stack: query encoding and page decoding.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use sendcloud_status::core::request::wire_params;
use sendcloud_status::core::{Credentials, Decoder, Encoder};
use sendcloud_status::{Endpoint, Language, Method, Region, SubStatus};

use crate::client::utc_offset;
use crate::convert;
use crate::errors::OrRaise;
use crate::query::build_query;

fn endpoint(
    py: Python<'_>,
    region: Option<&str>,
    base_url: Option<&str>,
    max_window_days: Option<i64>,
) -> PyResult<Endpoint> {
    let endpoint = match (base_url, region) {
        (Some(url), _) => Endpoint::custom(url).or_raise(py)?,
        (None, Some(r)) => Endpoint::preset(r.parse::<Region>().or_raise(py)?),
        (None, None) => Endpoint::default(),
    };
    match max_window_days {
        None => Ok(endpoint),
        Some(d) => {
            let d = sendcloud_status::settings::MAX_WINDOW_DAYS.check_u32("max_window_days", d).or_raise(py)?;
            endpoint.with_max_window_days(d).or_raise(py)
        }
    }
}

/// The wire parameters (credentials excluded, in wire-table order) of the
/// single page the filters describe, checked against the endpoint's window.
#[pyfunction]
#[pyo3(signature = (*, region=None, base_url=None, max_window_days=None, **filters))]
pub(crate) fn encode_query(
    py: Python<'_>,
    region: Option<&str>,
    base_url: Option<&str>,
    max_window_days: Option<i64>,
    filters: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<(&'static str, String)>> {
    let query = build_query(py, filters)?;
    let endpoint = endpoint(py, region, base_url, max_window_days)?;
    let credentials = Credentials::new("u", "k").or_raise(py)?;
    Encoder::new(endpoint, credentials).encode(&query).or_raise(py)?;
    let params = wire_params(&query, query.window(), query.email_ids(), query.start(), query.limit());
    Ok(params.into_iter().map(|(p, v)| (p.wire_name(), v)).collect())
}

/// The full request for the single page the filters describe:
/// `(method, url, headers, body)`. The URL (GET) or the body (POST) holds
/// the key, as the API requires; log neither.
#[pyfunction]
#[pyo3(signature = (api_user, api_key, *, method=None, region=None, base_url=None, max_window_days=None, **filters))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_request<'py>(
    py: Python<'py>,
    api_user: &str,
    api_key: &str,
    method: Option<&str>,
    region: Option<&str>,
    base_url: Option<&str>,
    max_window_days: Option<i64>,
    filters: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let query = build_query(py, filters)?;
    let endpoint = endpoint(py, region, base_url, max_window_days)?;
    let credentials = Credentials::new(api_user, api_key).or_raise(py)?;
    let method: Method = method.map_or(Ok(Method::default()), str::parse).or_raise(py)?;
    let request = Encoder::new(endpoint, credentials).with_method(method).encode(&query).or_raise(py)?;
    let headers: Vec<(&str, &str)> = request.headers().iter().map(|(k, v)| (*k, v.as_str())).collect();
    (request.method().as_str(), request.url(), headers, PyBytes::new(py, request.body())).into_pyobject(py)
}

/// Decodes one answer: `(total, list_size, records)` or the classified
/// error raised.
#[pyfunction]
#[pyo3(signature = (http_status, body, server_utc_offset=None))]
pub(crate) fn decode_page<'py>(
    py: Python<'py>,
    http_status: u16,
    body: &Bound<'py, PyAny>,
    server_utc_offset: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let decoder = match server_utc_offset {
        Some(v) if !v.is_none() => Decoder::new(utc_offset(py, v)?),
        _ => Decoder::default(),
    };
    let decoded = if let Ok(b) = body.cast::<PyBytes>() {
        decoder.decode(http_status, b.as_bytes())
    } else if let Ok(s) = body.cast::<PyString>() {
        decoder.decode(http_status, s.to_cow()?.as_bytes())
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err("body must be bytes or str"));
    };
    let page = decoded.or_raise(py)?;
    (page.total, page.list_size, convert::records(py, &page.records)?).into_pyobject(py)
}

/// The documented sub-status table: `(code, english, chinese)` per code.
#[pyfunction]
pub(crate) fn sub_status_table() -> Vec<(u16, &'static str, &'static str)> {
    SubStatus::KNOWN
        .iter()
        .map(|s| {
            (s.code(), s.description(Language::English).unwrap_or(""), s.description(Language::Chinese).unwrap_or(""))
        })
        .collect()
}

//! Python bindings for sendcloud-status: the `sendcloud_status._native`
//! extension module behind the `sendcloud_status` Python package.
//!
//! A thin layer: every rule (validation, encoding, decoding, retries, rate
//! limiting, pagination, cursors, reports) lives in `sendcloud-status` and its
//! core. This crate only converts arguments and results between Python and
//! Rust, releases the GIL around network I/O, checks for signals between
//! pages, and maps the core's [`ErrorKind`](sendcloud_status::ErrorKind) onto
//! the exception classes of `sendcloud_status.errors`.
//!
//! The user-facing API (`Client`, `AsyncClient`, `Record`, the enums) is
//! written in Python on top of the primitives here:
//!
//! - `NativeClient`: settings, `page(**filters)`, `export(...)`;
//! - `NativeExport`: a lazy, resumable record iterator (`fill`/`take` for
//!   asyncio workers, `feed` for reports);
//! - `NativeReport`: the core's `Summary` / `Suppressions` aggregates;
//! - `NativeSync`, `NativeArchive`, `NativeArchiveRecords`: the local
//!   archive (`sendcloud-status-archive`): a sync, and offline reads;
//! - `NativeWatch`: `client.watch(...)`, one event per call, waits in
//!   GIL-free slices, cancellable;
//! - `encode_query`, `encode_request`, `decode_page`: the sans-IO core, for
//!   the conformance vectors;
//! - `verify_webhook`: the core's event-webhook verifier (pure; the GIL is kept).

mod archive;
mod client;
mod convert;
mod errors;
mod export;
mod helpers;
mod query;
mod watch;
mod webhook;

use pyo3::prelude::*;

/// The native module behind the `sendcloud_status` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<client::NativeClient>()?;
    m.add_class::<export::NativeExport>()?;
    m.add_class::<export::NativeReport>()?;
    m.add_class::<archive::NativeSync>()?;
    m.add_class::<archive::NativeArchive>()?;
    m.add_class::<archive::NativeArchiveRecords>()?;
    m.add_class::<watch::NativeWatch>()?;
    m.add("NativeError", py.get_type::<errors::NativeError>())?;
    m.add_function(wrap_pyfunction!(helpers::encode_query, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::encode_request, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::decode_page, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::sub_status_table, m)?)?;
    m.add_function(wrap_pyfunction!(webhook::verify_webhook, m)?)?;
    m.add("DEFAULT_WEBHOOK_TOLERANCE", webhook::default_tolerance_seconds())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let defaults = defaults(py)?;
    // The single constants the package exported before `DEFAULTS`, from the same values.
    for (name, key) in [
        ("DEFAULT_MAX_RETRIES", "max_retries"),
        ("DEFAULT_PARALLEL", "parallel"),
        ("DEFAULT_RATE_LIMIT_PER_MINUTE", "rate_limit_per_minute"),
        ("MAX_PARALLEL", "max_parallel"),
        ("DEFAULT_LOOKBACK_DAYS", "lookback_days"),
        ("DEFAULT_SENDING_MAX_AGE_DAYS", "sending_max_age_days"),
        ("DEFAULT_RESCAN_AFTER", "rescan_after"),
        ("DEFAULT_FIRST_RUN_DAYS", "first_run_days"),
        ("DEFAULT_WATCH_INTERVAL", "watch_interval"),
        ("MIN_WATCH_INTERVAL", "min_watch_interval"),
        ("DEFAULT_SOFT_BOUNCE_GRACE", "soft_bounce_grace"),
        ("DEFAULT_WATCH_TIMEOUT", "watch_timeout"),
    ] {
        m.add(name, defaults.get_item(key)?)?;
    }
    m.add("DEFAULTS", defaults)?;
    m.add("RECORD_FIELDS", sendcloud_status::Record::FIELDS.to_vec())?;
    Ok(())
}

/// The defaults of the Rust client, of exports, of `sync` and of `watch`, read from the
/// core's constants: the Python package restates none of them. Durations
/// in seconds.
fn defaults(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    use sendcloud_status::core::{sync, watch};
    use sendcloud_status::{Method, Parallelism, RateLimit, RetryPolicy, settings};
    let retry = RetryPolicy::default();
    let d = pyo3::types::PyDict::new(py);
    d.set_item("method", Method::default().as_str())?;
    d.set_item("timeout", settings::DEFAULT_TIMEOUT.as_secs_f64())?;
    d.set_item("connect_timeout", settings::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())?;
    d.set_item("max_retries", retry.max_attempts.saturating_sub(1))?;
    d.set_item("rate_limit_per_minute", RateLimit::default().requests_per_minute())?;
    d.set_item("parallel", Parallelism::default().to_string())?;
    d.set_item("max_parallel", sendcloud_status::MAX_PARALLELISM)?;
    d.set_item("server_utc_offset", settings::DEFAULT_SERVER_UTC_OFFSET.to_string())?;
    d.set_item("page_size", settings::DEFAULT_PAGE_SIZE)?;
    d.set_item("email_id_chunk", settings::DEFAULT_EMAIL_ID_CHUNK)?;
    d.set_item("max_window_days", settings::DEFAULT_MAX_WINDOW_DAYS)?;
    d.set_item("retry_base_delay", retry.base_delay.as_secs_f64())?;
    d.set_item("retry_rate_limit_delay", retry.rate_limit_base_delay.as_secs_f64())?;
    d.set_item("retry_max_delay", retry.max_delay.as_secs_f64())?;
    d.set_item("retry_deadline", retry.deadline.as_secs_f64())?;
    d.set_item("lookback_days", sync::DEFAULT_LOOKBACK_DAYS)?;
    d.set_item("sending_max_age_days", sync::DEFAULT_SENDING_MAX_AGE_DAYS)?;
    d.set_item("rescan_after", sync::DEFAULT_RESCAN_AFTER.as_secs_f64())?;
    d.set_item("first_run_days", sync::DEFAULT_FIRST_RUN_DAYS)?;
    d.set_item("watch_interval", watch::DEFAULT_INTERVAL.as_secs_f64())?;
    d.set_item("min_watch_interval", watch::MIN_INTERVAL.as_secs_f64())?;
    d.set_item("soft_bounce_grace", watch::DEFAULT_SOFT_BOUNCE_GRACE.as_secs_f64())?;
    d.set_item("watch_timeout", sendcloud_status::DEFAULT_WATCH_TIMEOUT.as_secs_f64())?;
    Ok(d)
}

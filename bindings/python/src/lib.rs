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
    m.add("DEFAULT_MAX_RETRIES", sendcloud_status::RetryPolicy::default().max_attempts.saturating_sub(1))?;
    m.add("DEFAULT_PARALLEL", sendcloud_status::Parallelism::default().to_string())?;
    m.add("DEFAULT_RATE_LIMIT_PER_MINUTE", sendcloud_status::RateLimit::default().requests_per_minute())?;
    m.add("MAX_PARALLEL", sendcloud_status::MAX_PARALLELISM)?;
    {
        use sendcloud_status::core::sync;
        m.add("DEFAULT_LOOKBACK_DAYS", sync::DEFAULT_LOOKBACK_DAYS)?;
        m.add("DEFAULT_SENDING_MAX_AGE_DAYS", sync::DEFAULT_SENDING_MAX_AGE_DAYS)?;
        m.add("DEFAULT_RESCAN_AFTER", sync::DEFAULT_RESCAN_AFTER.as_secs_f64())?;
        m.add("DEFAULT_FIRST_RUN_DAYS", sync::DEFAULT_FIRST_RUN_DAYS)?;
    }
    {
        use sendcloud_status::core::watch;
        m.add("DEFAULT_WATCH_INTERVAL", watch::DEFAULT_INTERVAL.as_secs_f64())?;
        m.add("MIN_WATCH_INTERVAL", watch::MIN_INTERVAL.as_secs_f64())?;
        m.add("DEFAULT_SOFT_BOUNCE_GRACE", watch::DEFAULT_SOFT_BOUNCE_GRACE.as_secs_f64())?;
        m.add("DEFAULT_WATCH_TIMEOUT", sendcloud_status::DEFAULT_WATCH_TIMEOUT.as_secs_f64())?;
    }
    Ok(())
}

//! Node.js bindings for `sendcloud-status` (napi-rs 3).
//!
//! A thin layer: options in, plain objects out. Validation, encoding,
//! decoding, pagination, retries, rate limiting and cursors are the core's
//! and the client's; this crate only moves values across and runs every
//! network call on the libuv thread pool through [`napi::bindgen_prelude::AsyncTask`]
//! (no async runtime), so the event loop never blocks.
//!
//! The JS package in `node/` wraps these classes: `NativeClient` becomes
//! `Client`, the export stream becomes an async iterable with a `cursor`,
//! and errors (plain JS errors with a `code`, built in [`error`]) become
//! `SendCloudError`s.
//!
//! - `options`: JS option objects → client builder, `Query`, export settings.
//! - `convert`: records, pages, summaries, suppressions → JS objects.
//! - `client`: `NativeClient`, `NativeRecords`, `NativeBatch`.
//! - `archive`: the local archive: `NativeSync` (`client.sync`),
//!   `NativeArchive`, `NativeArchiveRecords` (read by the archive crate's
//!   `RecordStream` thread).
//! - `task`: the `AsyncTask` that runs a closure off the main thread.
//! - `watch`: `NativeWatch` (`client.watch`): steps on the libuv pool, the
//!   waits between polls on a JS timer.
//! - `helpers`: `decodePage`, `encodeQuery`, `encodeRequest`.
//! - [`error`]: error objects, field names, panic guard.
//! - [`webhook`]: `verifyWebhook`, the core's event-webhook verifier (pure).

pub mod archive;
pub mod client;
pub mod convert;
pub mod error;
pub mod helpers;
pub mod options;
pub mod task;
pub mod watch;
pub mod webhook;

use napi_derive::napi;

/// The package version.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The client's defaults, from the Rust client (the JS package restates none).
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct Defaults {
    /// `'auto'`: as many requests in flight as fill the rate limit.
    pub parallel: String,
    /// The client-side limit, requests per minute (the documented account limit).
    pub rate_limit_per_minute: u32,
    /// Retries per request after the first attempt.
    pub max_retries: u32,
    /// The most requests a client or an export may keep in flight.
    pub max_parallel: u32,
    /// Sync: days before the last complete day read again.
    pub lookback_days: u32,
    /// Sync: oldest day, in days before today, re-read for its "sending" rows.
    pub sending_max_age_days: u32,
    /// Sync: a day read less than this long ago (ms) is not read again.
    pub rescan_after_ms: u32,
    /// Sync: days a first run reads without `since` (today included).
    pub first_run_days: u32,
    /// Watch: time between polls, ms (the server's cache period).
    pub watch_interval_ms: u32,
    /// Watch: the shortest interval accepted, ms.
    pub min_watch_interval_ms: u32,
    /// Watch: a soft bounce unchanged this long (ms) is final.
    pub soft_bounce_grace_ms: u32,
    /// Watch: the deadline, ms.
    pub watch_timeout_ms: u32,
}

/// The defaults of the Rust client and of `sync`.
#[napi]
pub fn defaults() -> Defaults {
    use sendcloud_status::core::{sync, watch};
    let ms = |d: std::time::Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
    Defaults {
        parallel: sendcloud_status::Parallelism::default().to_string(),
        rate_limit_per_minute: sendcloud_status::RateLimit::default().requests_per_minute(),
        max_retries: sendcloud_status::RetryPolicy::default().max_attempts.saturating_sub(1),
        max_parallel: u32::try_from(sendcloud_status::MAX_PARALLELISM).unwrap_or(u32::MAX),
        lookback_days: sync::DEFAULT_LOOKBACK_DAYS,
        sending_max_age_days: sync::DEFAULT_SENDING_MAX_AGE_DAYS,
        rescan_after_ms: u32::try_from(sync::DEFAULT_RESCAN_AFTER.as_millis()).unwrap_or(u32::MAX),
        first_run_days: sync::DEFAULT_FIRST_RUN_DAYS,
        watch_interval_ms: ms(watch::DEFAULT_INTERVAL),
        min_watch_interval_ms: ms(watch::MIN_INTERVAL),
        soft_bounce_grace_ms: ms(watch::DEFAULT_SOFT_BOUNCE_GRACE),
        watch_timeout_ms: ms(sendcloud_status::DEFAULT_WATCH_TIMEOUT),
    }
}

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

/// The client's defaults, from the Rust core (the JS package restates none).
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct Defaults {
    /// `'POST'`: the key stays out of URLs.
    pub method: String,
    /// Whole-request timeout, ms.
    pub timeout_ms: u32,
    /// Connect timeout, ms.
    pub connect_timeout_ms: u32,
    /// The server's UTC offset, `'+08:00'`.
    pub server_utc_offset: String,
    /// Rows per page of an export (`limit`).
    pub page_size: u32,
    /// Email ids per request for long `emailIds` lists.
    pub email_id_chunk: u32,
    /// The window maximum of a custom base URL, days.
    pub max_window_days: u32,
    /// Backoff base after server and transport faults, ms.
    pub retry_base_delay_ms: u32,
    /// Backoff base after a rate-limit answer, ms.
    pub retry_rate_limit_delay_ms: u32,
    /// The longest single wait between attempts, ms.
    pub retry_max_delay_ms: u32,
    /// Give up on a request this long after its first attempt, ms.
    pub retry_deadline_ms: u32,
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
    use sendcloud_status::settings;
    let ms = |d: std::time::Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
    let retry = sendcloud_status::RetryPolicy::default();
    Defaults {
        method: sendcloud_status::Method::default().as_str().to_owned(),
        timeout_ms: ms(settings::DEFAULT_TIMEOUT),
        connect_timeout_ms: ms(settings::DEFAULT_CONNECT_TIMEOUT),
        server_utc_offset: settings::DEFAULT_SERVER_UTC_OFFSET.to_string(),
        page_size: settings::DEFAULT_PAGE_SIZE,
        email_id_chunk: u32::try_from(settings::DEFAULT_EMAIL_ID_CHUNK).unwrap_or(u32::MAX),
        max_window_days: settings::DEFAULT_MAX_WINDOW_DAYS,
        retry_base_delay_ms: ms(retry.base_delay),
        retry_rate_limit_delay_ms: ms(retry.rate_limit_base_delay),
        retry_max_delay_ms: ms(retry.max_delay),
        retry_deadline_ms: ms(retry.deadline),
        parallel: sendcloud_status::Parallelism::default().to_string(),
        rate_limit_per_minute: sendcloud_status::RateLimit::default().requests_per_minute(),
        max_retries: retry.max_attempts.saturating_sub(1),
        max_parallel: u32::try_from(sendcloud_status::MAX_PARALLELISM).unwrap_or(u32::MAX),
        lookback_days: sync::DEFAULT_LOOKBACK_DAYS,
        sending_max_age_days: sync::DEFAULT_SENDING_MAX_AGE_DAYS,
        rescan_after_ms: ms(sync::DEFAULT_RESCAN_AFTER),
        first_run_days: sync::DEFAULT_FIRST_RUN_DAYS,
        watch_interval_ms: ms(watch::DEFAULT_INTERVAL),
        min_watch_interval_ms: ms(watch::MIN_INTERVAL),
        soft_bounce_grace_ms: ms(watch::DEFAULT_SOFT_BOUNCE_GRACE),
        watch_timeout_ms: ms(sendcloud_status::DEFAULT_WATCH_TIMEOUT),
    }
}

/// The keys of a record's canonical form (JSON, the CLI's CSV columns), in
/// order, `snake_case`: the core serializes records by this list.
#[napi]
pub fn record_fields() -> Vec<&'static str> {
    sendcloud_status::Record::FIELDS.to_vec()
}

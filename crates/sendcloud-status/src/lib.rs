//! A blocking client for the SendCloud / Aurora SendCloud `data/emailStatus`
//! API: what happened to the emails you sent — delivered, invalid, soft
//! bounce, sending — with bounce sub-statuses, over any time range.
//!
//! This crate is the I/O half: one readable loop around the sans-IO
//! [`sendcloud_status_core`] export machine, on a `ureq` agent (rustls,
//! keep-alive). Everything protocol-shaped — validation, encoding, lenient
//! decoding, window splitting, pagination, de-duplication, retries, the rate
//! limiter, cursors — lives in the core and is re-exported here.
//!
//! # Layout
//!
//! - `accounts`: one limiter and throughput controller per account
//!   (endpoint + apiUser + ceiling) in the process, shared by its clients.
//! - `builder`: [`ClientBuilder`], settings and environment fallbacks.
//! - `client`: [`Client`] (`page`, `records`, `pages`, `export`) and
//!   [`ExportRequest`] (max records, resume, parallelism).
//! - `driver`: the loop that polls the export machine; the [`Pages`] and
//!   [`Records`] iterators and their [`CancelHandle`]; the worker pool of
//!   parallel exports, which grows as the export keeps more requests in
//!   flight ([`Parallelism::Auto`], the default, up to 32).
//! - `transport`: the ureq agent; error mapping onto retryable kinds.
//! - `watch`: [`Client::watch`] and the [`Watcher`] that drives the core's
//!   watch machine: each poll's queries as exports, cancellable waits.
//!
//! # Examples
//!
//! Every bounce of the last week, as a lazy iterator (windows longer than
//! the region's 3-day maximum are split, pages are followed, faults retried):
//!
//! ```no_run
//! use sendcloud_status::{Client, Query};
//! let client = Client::builder().credentials("api_user", "api_key").build()?;
//! let query = Query::builder().days(7).build()?;
//! for record in client.records(query)? {
//!     let record = record?;
//!     if record.should_suppress() {
//!         println!("{}", record.recipient.unwrap_or_default());
//!     }
//! }
//! # Ok::<(), sendcloud_status::Error>(())
//! ```
//!
//! Stop and resume later with a cursor:
//!
//! ```no_run
//! # use sendcloud_status::{Client, Cursor, Query};
//! # let client = Client::from_env()?;
//! let query = Query::builder().date_strings("2024-05-01", "2024-05-20").build()?;
//! let mut records = client.export(query.clone()).max_records(1000).records()?;
//! for r in records.by_ref() { let _ = r?; }
//! let saved: String = records.cursor().map(|c| c.to_string()).unwrap_or_default();
//! // … later, even in another process:
//! let cursor: Cursor = saved.parse()?;
//! let rest = client.export(query).resume(cursor).records()?;
//! # Ok::<(), sendcloud_status::Error>(())
//! ```
//!
//! Dropping a [`Records`] or [`Pages`] (or calling `close()`) cancels the
//! export: nothing more is sent, and its background threads (read-ahead,
//! parallel workers) end once the request they are sending returns. A
//! [`CancelHandle`] does the same from another thread, cutting short a
//! fetch that is waiting out a retry backoff or the rate limit.
//!
//! Logging goes through the `log` crate (`debug` per request, `trace` for
//! bodies) with the key redacted.

mod accounts;
mod builder;
mod client;
mod driver;
mod transport;
mod watch;

pub use builder::{
    ClientBuilder, ENV_API_KEY, ENV_API_USER, ENV_BASE_URL, ENV_REGION, MAX_EMAIL_ID_CHUNK, MAX_PARALLELISM,
    MAX_TIMEOUT,
};
pub use client::{Client, ExportRequest};
pub use driver::{CancelHandle, Pages, Records};
pub use watch::{DEFAULT_WATCH_TIMEOUT, WatchCancelHandle, WatchEvent, WatchReport, WatchRequest, WatchStep, Watcher};

pub use sendcloud_status_core as core;
pub use sendcloud_status_core::{
    BounceClass, Category, Cursor, Endpoint, Error, ErrorKind, ExportStats, Language, Method, Page, Parallelism,
    Position, Query, QueryBuilder, RateLimit, Record, RecordField, Region, Result, RetryAdvice, RetryPolicy,
    RetrySchedule, ServerTime, Status, SubStatus, ThroughputState, TransportErrorKind, UnstableUnit, ValidationReason,
    Window, Wording, chrono, settings,
};

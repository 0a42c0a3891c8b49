//! Sans-IO protocol core for the SendCloud / Aurora SendCloud
//! `data/emailStatus` API: what happened to the emails you sent (delivered,
//! invalid, soft bounce, sending, with bounce sub-statuses).
//!
//! The protocol notes are `docs/protocol.md` in the repository; the layers, `docs/architecture.md`.
//!
//! # Scope
//!
//! In scope:
//! - the query model and every validation rule, before anything is sent;
//! - request encoding (method, URL, headers, form body) from one table of
//!   wire names;
//! - lenient response decoding and error classification by `statusCode`;
//! - the status model: categories, sub-statuses, bounce classes, soft-bounce
//!   retry advice;
//! - the export state machine: the window resolved once at the start and
//!   split, `emailIds` chunking, offset pagination, drift detection and
//!   healing on a live account (re-reads with overlapping pages),
//!   de-duplication per unit, retries with backoff, rate limiting, a
//!   resumable cursor bound to the plan, several requests in flight with
//!   ordered output;
//! - the sync planner of a local archive: which server days to read, from
//!   the archive's state and the time now;
//! - the watch machine: polls that follow emails until they are final;
//! - event webhooks: parsing, signature and age checks, repeats.
//!
//! Out of scope: sockets, TLS, DNS, reading clocks, sleeping, threads,
//! randomness. Time ("now" and the server's "today") and the jitter seed come
//! in as arguments; the `sendcloud-status` crate is the driver that does the
//! I/O around this crate.
//!
//! # Layout
//!
//! - [`credentials`]: `apiUser` + `apiKey`, the key redacted in every format.
//! - [`endpoint`]: region presets and custom base URLs, with window maxima.
//! - [`query`]: the validated [`Query`] and its builder.
//! - [`request`]: wire names ([`Param`]) and [`Encoder`] → [`HttpRequest`].
//! - [`decode`]: [`Decoder`]: body bytes → [`PageBody`] or a classified [`Error`].
//! - [`record`]: [`Record`], [`Page`], [`ServerTime`].
//! - [`status`]: [`Status`] filter, [`Category`], [`SubStatus`], [`BounceClass`].
//! - [`report`]: [`report::Summary`], [`report::Suppressions`], [`report::SoftBounces`] aggregates.
//! - [`advice`]: soft-bounce [`RetrySchedule`] → [`RetryAdvice`].
//! - [`retry`]: [`RetryPolicy`] (which failures, how long to wait) and [`Jitter`].
//! - [`limiter`]: [`RateLimiter`], a GCRA limiter answering "wait until".
//! - [`throughput`]: [`Throughput`], the controller deciding the rate and the
//!   requests in flight from the answers ([`Parallelism::Auto`]).
//! - [`cursor`]: the resumable [`Cursor`].
//! - [`export`]: the [`Export`] state machine drivers loop over.
//! - [`sync`]: the sync planner: which server days a local archive reads
//!   next ([`sync::plan`]).
//! - [`watch`]: the [`Watch`] state machine: which requests to send, and
//!   when, to follow emails until their final state.
//! - [`webhook`]: event webhooks: [`WebhookEvent`] parsing (form or JSON,
//!   both spellings) and [`Verifier`] (constant-time HMAC, timestamp
//!   tolerance, repeated tokens).
//! - [`settings`]: the bounds and defaults of every setting, and the
//!   parsers of UTC offsets and server times, which every surface calls.
//! - [`error`]: the one [`Error`] type, its [`ErrorKind`],
//!   [`ValidationReason`] and [`TransportErrorKind`].
//!
//! # Example: a full paginated export with canned responses
//!
//! The driver loop is the same one the blocking client runs; here the
//! "server" is a closure and the clock is virtual.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sendcloud_status_core::*;
//!
//! let encoder = Encoder::new(Endpoint::default(), Credentials::new("me", "secret").unwrap());
//! let query = Query::builder().days(2).limit(2).build().unwrap();
//! let today = "2024-05-20".parse().unwrap();
//! let mut export = Export::new(ExportConfig::new(encoder), query, today, None).unwrap();
//!
//! // A fake server with three records, answering `start`/`limit`.
//! let serve = |req: &HttpRequest| -> Vec<u8> {
//!     let form: Vec<(String, String)> = form_urlencoded::parse(req.body()).into_owned().collect();
//!     let get = |k: &str| form.iter().find(|(n, _)| n == k).unwrap().1.parse::<usize>().unwrap();
//!     let (start, limit) = (get("start"), get("limit"));
//!     let rows: Vec<String> = (start..(start + limit).min(3))
//!         .map(|i| format!(r#"{{"emailId":"id{i}$a@b.com","status":"投递成功","recipients":"a@b.com"}}"#))
//!         .collect();
//!     format!(r#"{{"result":true,"statusCode":200,"message":"请求成功","info":{{"total":"3","voListSize":{},"voList":[{}]}}}}"#,
//!         rows.len(), rows.join(",")).into_bytes()
//! };
//!
//! let mut now = Instant::now();
//! let mut ids = Vec::new();
//! loop {
//!     match export.poll(now).unwrap() {
//!         Action::Send(id, request) => export.handle_response(id, 200, &serve(&request), now),
//!         Action::WaitUntil(t) => now = t,           // a real driver sleeps here
//!         Action::AwaitResponse => unreachable!("one request at a time"),
//!         Action::Page(page) => ids.extend(page.records.into_iter().filter_map(|r| r.email_id)),
//!         Action::Done => break,
//!         _ => unreachable!(),
//!     }
//!     now += Duration::from_millis(1);
//! }
//! assert_eq!(ids, ["id0$a@b.com", "id1$a@b.com", "id2$a@b.com"]);
//! assert_eq!(export.stats().requests, 2);
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod advice;
pub mod credentials;
pub mod cursor;
pub mod decode;
pub mod endpoint;
pub mod error;
pub mod export;
pub mod limiter;
pub mod query;
pub mod record;
pub mod report;
pub mod request;
pub mod retry;
pub mod settings;
pub mod status;
pub mod sync;
pub mod throughput;
pub mod watch;
pub mod webhook;

pub use advice::{RetryAdvice, RetrySchedule};
pub use credentials::{ApiKey, Credentials};
pub use cursor::Cursor;
pub use decode::{Decoder, PageBody};
pub use endpoint::{Endpoint, Region};
pub use error::{Error, ErrorKind, Result, TransportErrorKind, ValidationReason};
pub use export::{Action, Export, ExportConfig, ExportStats, RequestId, UnstableUnit};
pub use limiter::{RateLimit, RateLimiter, SharedLimiter};
pub use query::{Query, QueryBuilder, Window};
pub use record::{Page, Position, Record, RecordField, ServerTime};
pub use request::{Encoder, HttpRequest, Method, Param};
pub use retry::{Jitter, RetryPolicy};
pub use status::{BounceClass, Category, Language, Status, SubStatus, Wording};
pub use throughput::{MAX_PARALLELISM, Parallelism, Throughput, ThroughputState};
pub use watch::{Watch, WatchAction, WatchConfig, WatchEnd, WatchOutcome};
pub use webhook::{AppKey, EventKind, Verdict, Verifier, WebhookError, WebhookEvent};

/// Re-exported so callers can name dates and offsets without a direct
/// `chrono` dependency.
pub use chrono;

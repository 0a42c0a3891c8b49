//! A faithful local simulator of the SendCloud / Aurora SendCloud `data/emailStatus` API.
//!
//! [`Sandbox::start`] serves a deterministic, generated account on `127.0.0.1` (any free port)
//! at `/api/data/emailStatus` and `/apiv2/data/emailStatus`, over GET and form POST, with the
//! vendor's envelopes, error codes, rate limit and quirks (string `total`, display-text
//! `status`, optional lower-case `statuscode`, `info` as a string, …), plus seeded faults. Its
//! [`Dataset`] is the ground truth: [`Dataset::query`] returns what the server pages for a
//! [`Filter`], in the same order. The sandbox is an independent oracle: it shares no code
//! with the client crates.
//!
//! ```
//! use sendcloud_status_sandbox::{Filter, Sandbox, SandboxConfig, DEMO_API_KEY, DEMO_API_USER};
//!
//! let sandbox = Sandbox::start(SandboxConfig::default().with_records(2_000)).unwrap();
//! let url = format!("{}data/emailStatus", sandbox.base_url());
//! let body = ureq::post(&url)
//!     .send_form([("apiUser", DEMO_API_USER), ("apiKey", DEMO_API_KEY), ("days", "3"), ("limit", "5")])
//!     .unwrap()
//!     .body_mut()
//!     .read_to_string()
//!     .unwrap();
//! let json: serde_json::Value = serde_json::from_str(&body).unwrap();
//!
//! let today = sandbox.dataset().today(); // the server clock's date (UTC+8)
//! let truth = sandbox.dataset().query(&Filter::days(today, 3));
//! assert_eq!(json["statusCode"], 200);
//! assert_eq!(json["info"]["total"], truth.len().to_string()); // a string, as documented
//! assert_eq!(json["info"]["voList"][0]["emailId"], truth[0].email_id.as_str());
//! ```
//!
//! # Behaviour
//!
//! - Credentials are the parameters `apiUser`/`apiKey` ([`DEMO_API_USER`]/[`DEMO_API_KEY`]);
//!   anything else answers 40005. Without `apiUserList` a query covers the calling apiUser
//!   only; `apiUserList` may name any of [`Dataset::api_users`].
//! - Checks run: route (HTTP 404/405 otherwise), credentials, rate limit, validation (codes in
//!   the table of [`validate`](crate#error-codes)), query. API errors are HTTP 200 with
//!   `result:false`.
//! - Rows are ordered by `requestTime`, then `emailId` (or exactly the reverse, see
//!   [`ResultOrder`]); `start`/`limit` page them (defaults 0/100). A parameter set's result
//!   is a snapshot kept for 10 minutes (see [`CacheModel`]), so deep paging is cheap.
//! - Dates are server days (UTC+8). `days=N` is the server clock's date and the N−1 days
//!   before; a window spans at most [`SandboxConfig::max_window_days`] calendar days, inclusive.
//! - `subStatus`: on bounce rows a number (or string, per [`SubStatusFormat`]) with a
//!   `subStatusDesc`; omitted on delivered/sending rows; with [`SubStatusFormat::Null`] it is
//!   `null` on every row.
//!
//! ## Live account
//!
//! - **Clock.** The server has a clock: naive UTC+8 date-times that start at
//!   [`SandboxConfig::now`] (default: the real current time;
//!   [`with_today(d)`](SandboxConfig::with_today) starts at `d` [`TODAY_START_TIME`], 12:00:00,
//!   so one configuration always serves the same data) and run with real time, to the
//!   millisecond ([`Sandbox::now`]). Generated records spread from 00:00 of the first day up to
//!   the clock's start: **no record is ever dated after the server clock**, and new ones get
//!   the clock's time. Its date is "today" for `days=N`, validation and the ground truth.
//! - **Switches** ([`LiveConfig`], all off by default; [`SandboxConfig::live`] at start,
//!   [`Sandbox::set_live`] at run time, counting from that moment):
//!   - `arrivals_per_second`: new mail — a "sending" row (code 18) stamped with the clock,
//!     with a unique emailId of the usual shape (it starts with its own epoch millisecond, so
//!     at most [`MAX_ARRIVALS_PER_SECOND`]), recipient and label drawn like generated data,
//!     apiUser mostly the demo user (70%).
//!   - `settle_per_second`: "sending" rows, picked uniformly among all of them (any day),
//!     turn delivered (90%), invalid (6%, a 4xx sub-status) or soft bounce (4%, 5xx), with
//!     `modifiedTime` = the clock.
//!   - `day_advance`: [`DayAdvance::AfterRequests`]`(n)` or
//!     [`AfterDuration`](DayAdvance::AfterDuration) jumps the clock, once, to the next
//!     midnight (00:00:00), from where it keeps running; [`Sandbox::advance_day`] jumps now.
//!     Every request on the API paths counts, whatever its outcome.
//!   - `order`: [`ResultOrder::OldestFirst`] or its exact reverse
//!     [`NewestFirst`](ResultOrder::NewestFirst), for the API and for [`Dataset::query`].
//!   - `cache`: [`CacheModel::Snapshot`] (default, the real server's documented behaviour, ttl
//!     [`DEFAULT_CACHE_TTL`]): the full result of a parameter set (everything but
//!     `start`/`limit`) is computed once and every page of it within the ttl reads that
//!     snapshot, rows as they were — totals stay constant and pages tile it exactly while the
//!     account changes; after the ttl the next request takes a new one.
//!     [`CacheModel::PerRequest`]: every request reads the live data, so a live result moves
//!     under a paginator. Without live changes both answer the same.
//! - **Events** are evenly spaced per switch (event `k` of rate `r` is due `k / r` seconds
//!   after the switch was set) and applied lazily: each API request and each control call
//!   (also [`Sandbox::dataset`], [`Sandbox::now`], [`Sandbox::changes`]) first applies every
//!   event due by then, in due order, stamped with the clock at its due time, with draws keyed
//!   on the event's running number (same seed and clock start, same sequence of changes).
//! - **Change log.** Every change is logged as a [`Change`] `{seq, email_id, kind:
//!   arrived|settled, at, after_request, status_code, sub_status}` ([`Sandbox::changes`],
//!   `GET /_sandbox/changes`); `after_request: n` means request `n + 1` is the first to see it.
//! - **Ground truth.** [`Sandbox::dataset`] is a snapshot of the live state now (later changes
//!   do not show in it; snapshots share unchanged records, so they are cheap).
//!
//! ## Webhook push
//!
//! With [`SandboxConfig::webhook`] (or [`Sandbox::set_webhook`], `POST /_sandbox/webhook`, the
//! `--webhook-url`/`--webhook-key` flags) the sandbox delivers the vendor's event webhooks for
//! the changes of the live account from then on: `request` for new mail, `deliver`/`delivered`,
//! `invalid`/`invalid_email` (with `subStatus`) or `soft_bounce` when a row settles — one event
//! per [`Change`]. Each is signed `hex(HMAC-SHA256(key, timestamp + token))` (the timestamp is
//! the real wall clock in Unix ms, the token 50 random characters) and POSTed as a form or a JSON
//! body ([`WebhookFormat`]), with the old or the new event names ([`WebhookSpelling`]). Each
//! delivery waits a seeded random time first (up to [`WebhookPush::max_delay`]) and four threads
//! send, so events sometimes arrive out of order; with probability [`WebhookPush::duplicate`] the
//! same body is delivered twice. An answer other than HTTP 200 (or none within 3 s) is retried
//! five times, after 1, 2, 4, 8 and 16 × [`WebhookPush::retry_unit`] (the vendor's minutes,
//! compressed), with the same body. [`Sandbox::webhook_log`] (`GET /_sandbox/webhooks`) lists
//! every attempt; [`Sandbox::webhook_pending`] counts what is still to deliver. Generated
//! (non-live) records push nothing. The key is never printed.
//!
//! # Error codes
//!
//! Where the vendor leaves a case open, the sandbox picks (marked *sandbox*):
//!
//! | case | code |
//! |---|---|
//! | wrong or missing `apiUser`/`apiKey` | 40005 |
//! | `start` empty / invalid | 40001 / 40002 |
//! | `limit` empty / not 1..=100 | 40003 / 40004 |
//! | `days` empty or not an integer > 0; neither `days` nor dates; `days` *and* dates (*sandbox*) | 40006 |
//! | `startDate` missing (only `endDate`), empty or not `yyyy-MM-dd` | 40007 |
//! | `endDate` missing (only `startDate`), empty or not `yyyy-MM-dd` | 40008 |
//! | `startDate > endDate`, span over the window, `days` over the window (*sandbox*) | 40008 |
//! | `emailIds` empty (*sandbox*) | 40009 |
//! | `apiUserList` empty / names an unknown apiUser | 40010 / 40016 |
//! | `email` empty / without `@` | 40011 / 40012 |
//! | `status` empty or not 1, 4, 5, 18 (*sandbox*) | 40013 |
//! | `labelId` empty, or `labelName` empty when sent alone (*sandbox*) | 40014 |
//! | `labelId` not an integer / unknown | 40015 / 40103 |
//! | `subStatus` empty or not integers (*sandbox*) | 40017 |
//! | rate limited (verbatim documented body, lower-case key) | 50000 |
//!
//! # Rate limit
//!
//! GCRA at [`SandboxConfig::rate_limit_per_minute`] (default 3000) per account: a burst of
//! `max(rate / 60, 10)` calls passes at once, then one call per `60 s / rate`. Only
//! authenticated calls count; refused calls consume nothing. The answer is HTTP 200 with
//! exactly `{"result": false, "statuscode": 50000, "message": "interface frequency limited", "info": {}}`.
//! [`SandboxConfig::competing_load`] simulates another process on the same account using that
//! share of the rate (the burst stays; the sustained rate left is `(1 − share) × rate`).
//!
//! # Faults
//!
//! [`FaultConfig`] gives per-request probabilities; one seeded draw per request decides at most
//! one fault (in the order rate-limited, 502, reset, truncated, slow):
//!
//! - *rate-limited*: the 50000 body above, whatever the limiter says;
//! - *502*: HTTP 502 with an nginx-style HTML page;
//! - *reset*: the connection is closed with no response byte;
//! - *truncated*: the real answer's headers with its full `Content-Length`, half the body, then
//!   the connection is closed;
//! - *slow*: the normal answer after [`FaultConfig::slow_delay`].
//!
//! tiny_http cannot close a keep-alive connection itself, so the public port is a small byte
//! relay in front of it that can (see the `relay` module); the client sees EOF, never a hang.
//! [`SandboxConfig::latency`] is added to every answer (uniformly spread by
//! [`SandboxConfig::latency_jitter`], seeded). The apiKey's value is never logged,
//! echoed or stored: the [request log](Sandbox::request_log) keeps parameter names, values
//! with the key [`REDACTED`], and whether the key travelled in the URL.
//!
//! # Control endpoints (tests in other languages)
//!
//! On the same port, outside the API paths, and untouched by faults, latency, the rate limit
//! and the log: `GET /_sandbox/info` (today, the clock, size, apiUsers, labels, live
//! settings), `GET /_sandbox/truth?…` (the ground-truth email ids for API filter parameters,
//! any window length, from the current live state), `GET /_sandbox/requests` (the request log
//! as JSON), `GET /_sandbox/changes[?since=SEQ]` (the change log), `POST /_sandbox/clear`
//! (empty the log), `POST /_sandbox/faults` (JSON `{"seed", "rate_limited", "http_502",
//! "reset", "truncated", "slow", "slow_ms"}`), `POST /_sandbox/live` (JSON
//! `{"arrivals_per_second", "settle_per_second", "day_advance_after_requests",
//! "day_advance_after_ms", "order", "cache", "cache_ttl_ms"}`), `POST /_sandbox/advance-day`.
//! The `control` module documents the shapes.
//!
//! # Layout
//!
//! - `control` — test-only endpoints under `/_sandbox/` (ground truth, request log, faults)
//!   for tests in other languages.
//! - `config` — [`SandboxConfig`], [`LiveConfig`], [`FaultConfig`], the fidelity switches.
//! - `args` — [`SandboxArgs`], the same settings as clap flags.
//! - `catalog` — apiUsers, labels, sub-status texts, address parts.
//! - `dataset` — generation, compact records, [`Dataset::query`] (the plain-scan oracle).
//! - `store` — the chunked copy-on-write record storage behind cheap snapshots.
//! - `clock` — the server clock. `live` — arrival and settle events, the change log.
//!   `account` — clock, records and events under one lock, brought up to date on each look.
//! - `validate` — parameters → checked query or API error.
//! - `query` — the server's search: binary-searched window, filters, the snapshot LRU.
//! - `render` — JSON (and HTML) bodies.
//! - `limiter` — GCRA. `faults` — seeded fault draws. `reqlog` — the request log.
//! - `push` — webhook push of the live changes.
//! - `relay` — the byte relay that owns the public socket. `server` — [`Sandbox`], workers,
//!   the request handler.
//! - `rng` — SplitMix64.

mod account;
mod args;
mod catalog;
mod clock;
mod config;
mod control;
mod dataset;
mod faults;
mod limiter;
mod live;
mod push;
mod query;
mod relay;
mod render;
mod reqlog;
mod rng;
mod server;
mod store;
mod validate;

pub use args::SandboxArgs;
pub use config::{
    CacheModel, DEFAULT_CACHE_TTL, DEMO_API_KEY, DEMO_API_USER, DayAdvance, FaultConfig, Language, LiveConfig,
    MAX_ARRIVALS_PER_SECOND, MAX_SETTLES_PER_SECOND, ResultOrder, SandboxConfig, StatusCodeKey, SubStatusFormat,
    TODAY_START_TIME, WebhookFormat, WebhookPush, WebhookSpelling, server_now, server_today,
};
pub use dataset::{Dataset, Filter, GroundRecord};
pub use faults::FaultKind;
pub use live::{Change, ChangeKind};
pub use push::WebhookDelivery;
pub use reqlog::{LoggedRequest, REDACTED, REQUEST_LOG_CAPACITY};
pub use server::Sandbox;

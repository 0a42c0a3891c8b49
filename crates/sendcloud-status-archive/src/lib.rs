//! A local archive of every email's delivery status and its history, in one
//! SQLite file, kept in sync with the SendCloud / Aurora SendCloud
//! `data/emailStatus` API — for offline reports and lookups.
//!
//! [`Archive::sync`] asks the core's planner ([`sendcloud_status::core::sync`])
//! which server days to read, reads them with the client's exports (windows,
//! rate limit, retries and drift healing all apply), and writes each page in
//! one transaction. [`Archive::scan`] and [`Archive::email`] read it back as
//! the same [`Record`](sendcloud_status::Record)s an export yields, so every
//! report of the core works offline.
//!
//! ```
//! use sendcloud_status::Client;
//! use sendcloud_status::core::report::Summary;
//! use sendcloud_status::core::sync::SyncPolicy;
//! use sendcloud_status_archive::{Archive, Selection, ServerClock, SyncOptions};
//! use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Sandbox, SandboxConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A simulated account on loopback; with a real one, `Client::from_env()`.
//! let sandbox = Sandbox::start(SandboxConfig::default().with_records(2_000).with_rate_limit(None))?;
//! let client = Client::builder().credentials(DEMO_API_USER, DEMO_API_KEY).base_url(sandbox.base_url()).build()?;
//!
//! let dir = tempfile::tempdir()?;
//! let mut archive = Archive::open(dir.path().join("status.db"))?;
//! let options = SyncOptions::default()
//!     .policy(SyncPolicy::default().since(Some(sandbox.now().date() - chrono::Days::new(6))))
//!     .clock(ServerClock::At(sandbox.now()));
//! let report = archive.sync(&client, &options, |_progress| {})?;
//! assert_eq!(report.days_read, 7);
//! assert!(report.is_exact());
//!
//! // Offline: a summary of everything archived, without a request.
//! let mut summary = Summary::default();
//! for record in archive.records(&Selection::all())? {
//!     summary.add(&record);
//! }
//! assert_eq!(summary.counts().total, report.ingested.inserted);
//!
//! // A second sync right away reads nothing: the server would answer from
//! // its 10-minute cache.
//! let again = archive.sync(&client, &options.clock(ServerClock::At(sandbox.now())), |_| {})?;
//! assert_eq!((again.days_read, again.requests), (0, 0));
//! # Ok(())
//! # }
//! # use sendcloud_status::chrono;
//! ```
//!
//! # Tables
//!
//! Column names are a public contract: other programs may read the file.
//! Times are RFC 3339 text with the server's offset (`2024-05-20T09:31:59+08:00`),
//! as the CLI prints them; a time the server sent in an unreadable form is
//! kept as received. Categories are the CLI's words: `delivered`, `invalid`,
//! `soft_bounce`, `sending`, `unknown`.
//!
//! **`emails`** — one row per email, its current state.
//!
//! | column | |
//! |---|---|
//! | `email_id` | primary key: the id the send API returned |
//! | `api_user` | the apiUser that sent it |
//! | `recipient` | the address |
//! | `status` | the server's display text (`投递成功`, `Invalid Mail - …`) |
//! | `category` | derived from the sub-status, then the text |
//! | `sub_status` | the code (401–409, 503–509), or NULL |
//! | `sub_status_description` | the server's text, else the documented English |
//! | `request_time` | when the send was requested |
//! | `modified_time` | when the status last changed |
//! | `send_log` | the receiving server's answer |
//! | `extra` | row fields this version does not model, as a JSON object, or NULL |
//! | `first_seen_at`, `last_seen_at` | when a sync first and last saw the row |
//!
//! **`status_history`** — one row per observed state of an email: the first
//! sighting, then every change of `(status, category, sub_status,
//! modified_time)`. Seeing the same state again adds nothing. Columns
//! `email_id`, `seq` (the state's place in the email's history, from 0;
//! the primary key is `(email_id, seq)`), `status`, `category`,
//! `sub_status`, `modified_time`, `seen_at` (when a sync first saw that
//! state, or the webhook event arrived), `run_id` (the `sync_runs` row, NULL
//! for [`Archive::ingest`] and events), `event` and `token` (the webhook
//! event that wrote the row; NULL for states read from the API). Every
//! stored status event adds a row, in the order events arrive — an event
//! older than the email's state (retries come out of order) is history, not
//! the current state.
//!
//! **`webhook_events`** — one row per verified event
//! ([`Archive::record_event`]), never two: `token` (primary key),
//! `email_id`, `event` (one spelling: `request`, `delivered`, `invalid`,
//! `soft_bounce`, `open`, `click`, `unsubscribe`, `spam_report`, `route`,
//! or the name lower-cased), `event_name` (as received: `deliver`,
//! `invalid_email`…), `category` (status events), `sub_status`,
//! `timestamp` (as received and signed), `event_time` (RFC 3339),
//! `recipient`, `api_user`, `fields` (every field received, as a JSON
//! object, unknown ones included), `received_at`, `history_seq` (the
//! `status_history` row it wrote). `(email_id, event, timestamp)` is unique
//! as well: the same event under a fresh token is not stored again.
//!
//! **`sync_runs`** — one row per sync: `id`, `started_at`, `finished_at`,
//! `outcome` (`running`, `complete`, `inexact` — some days kept moving and
//! will be read again —, `failed`, `interrupted` — cancelled, or killed and found by the
//! next sync), `scope`, `days_read`, `requests`, `records_seen`,
//! `inserted`, `changed`, `error`. The counters are updated with every page.
//!
//! **`sync_days`** — the planner's memory, one row per scope and server
//! day read: `scope` (the apiUsers synced, comma-separated), `day`
//! (`yyyy-MM-dd`), `complete` (the last full read ended exactly),
//! `last_read_at`, `rows`, `sending` (rows still "sending"), `run_id`.
//!
//! The schema version is `PRAGMA user_version` ([`SCHEMA_VERSION`]); an
//! older file is migrated forward when opened, a newer one is refused
//! ([`Error::NewerSchema`]). `PRAGMA application_id` is [`APPLICATION_ID`].
//!
//! # Crash safety
//!
//! - The file is in WAL mode; each page's upserts (`INSERT … ON CONFLICT DO
//!   UPDATE`), history rows, the run's counters and the days that page
//!   finished are one transaction. A sync killed at any moment — `SIGKILL`
//!   included — leaves whole pages, and only days whose every window was
//!   read to the end are marked read; the next sync reads the others again.
//!   Re-seeing a row in the same state changes nothing, so the archive ends
//!   exactly equal to the server's data, with no duplicate and no spurious
//!   history row.
//! - A day is complete only when its export ended exactly
//!   ([`ExportStats::is_exact`](sendcloud_status::ExportStats::is_exact));
//!   an inexact day is read again next run.
//! - One sync at a time: it holds an exclusive lock on `FILE-lock` for the
//!   whole run (released by the OS however the process ends); a second one
//!   fails at once with [`Error::Busy`]. Readers are never blocked.
//! - The API key is never stored, logged, or part of an error; nor is a
//!   webhook app key.
//! - Each webhook event is one transaction; the webhook receiver and a sync
//!   may write the same file at the same time (SQLite serialises the
//!   writes, readers never wait).

mod archive;
mod days;
mod error;
mod events;
mod ingest;
mod lock;
mod read;
mod schema;
mod stream;
mod sync;

pub use archive::{Archive, Scope};
pub use error::{Error, Result};
pub use events::EventWrite;
pub use ingest::Ingested;
pub use lock::SyncLock;
pub use read::{ArchivedEmail, HistoryEntry, Selection};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use stream::{BATCH, Next, RecordStream};
pub use sync::{ServerClock, SyncOptions, SyncProgress, SyncReport};

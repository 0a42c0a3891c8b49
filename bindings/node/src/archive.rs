//! The local archive (`sendcloud-status-archive`) from Node: `NativeSync`
//! (one `client.sync(path)` run, cancellable), `NativeArchive` (an archive
//! read offline) and `NativeArchiveRecords` (its records, streamed).
//!
//! Every sync, open, read and close runs on the libuv pool (or the reader
//! thread of a stream): SQLite never touches the event loop's thread. An
//! archive is opened lazily, by its first call, so `new Archive(path)`
//! does no I/O; a missing or foreign file rejects that call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sendcloud_status::Client;
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDate};
use sendcloud_status::core::query::parse_date;
use sendcloud_status::core::report::{Summary, Suppressions};
use sendcloud_status::core::sync::SyncPolicy;
use sendcloud_status::{Error as CoreError, Query};
use sendcloud_status_archive::{
    Archive, ArchivedEmail as CoreArchivedEmail, Selection, ServerClock, SyncOptions, SyncReport as CoreSyncReport,
};

use crate::client::checked;
use crate::convert::{EmailRecord, Stats, SummaryResult, SuppressionEntry};
use crate::options::{CoreResult, QueryOptions, server_time, utc_offset};
use crate::task::{Failure, Job};
use sendcloud_status_archive::{Next, RecordStream};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A path: a non-empty string.
fn path_arg(path: &str) -> CoreResult<PathBuf> {
    if path.is_empty() {
        return Err(CoreError::validation("path", "must be a non-empty string naming the archive file"));
    }
    Ok(PathBuf::from(path))
}

/// A whole number of days ≥ 0.
fn days(field: &'static str, v: f64) -> CoreResult<u32> {
    if !v.is_finite() || v.fract() != 0.0 || v < 0.0 || v > f64::from(u32::MAX) {
        return Err(CoreError::validation(field, format!("must be a whole number of days ≥ 0, got {v}")));
    }
    Ok(v as u32)
}

/// Settings of `client.sync(path, options)`; the defaults are the planner's.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default, Clone)]
pub struct SyncSettings {
    /// The first day to read, `yyyy-MM-dd` (default: the archive's oldest day, or 30 days back).
    pub since: Option<String>,
    /// Days before the last complete day read again (default 3).
    pub lookback_days: Option<f64>,
    /// Oldest day, in days before today, read again for its "sending" rows (default 7).
    pub sending_max_age_days: Option<f64>,
    /// A day read less than this long ago (ms) is skipped (default 600000; 0: never).
    pub rescan_after_ms: Option<f64>,
    /// The `apiUserList` to sync (default: the calling apiUser).
    pub api_users: Option<Vec<String>>,
    /// The server's today, `yyyy-MM-dd` (with `serverNow`: not both).
    pub today: Option<String>,
    /// The server's time now, `yyyy-MM-dd HH:mm:ss` (a server whose clock is not this machine's).
    pub server_now: Option<String>,
}

impl SyncSettings {
    fn options(&self) -> CoreResult<SyncOptions> {
        let mut policy = SyncPolicy::default();
        if let Some(d) = self.lookback_days {
            policy = policy.lookback_days(days("lookback_days", d)?);
        }
        if let Some(d) = self.sending_max_age_days {
            policy = policy.sending_max_age_days(days("sending_max_age_days", d)?);
        }
        if let Some(ms) = self.rescan_after_ms {
            if !ms.is_finite() || ms < 0.0 {
                return Err(CoreError::validation("rescan_after_ms", format!("must be a number of ms ≥ 0, got {ms}")));
            }
            policy = policy.rescan_after(Duration::from_millis(ms as u64));
        }
        if let Some(since) = &self.since {
            policy = policy.since(Some(parse_date("since", since)?));
        }
        let mut options = SyncOptions::default().policy(policy);
        if let Some(users) = &self.api_users {
            if users.is_empty() || users.iter().any(|u| u.trim().is_empty()) {
                return Err(CoreError::validation("api_users", "must name at least one apiUser, none blank"));
            }
            options = options.api_users(users.iter().cloned());
        }
        match (&self.today, &self.server_now) {
            (Some(_), Some(_)) => {
                return Err(CoreError::validation(
                    "server_now",
                    "give today or serverNow, not both (serverNow sets the day as well as the time)",
                ));
            }
            (Some(day), None) => options = options.clock(ServerClock::Day(parse_date("today", day)?)),
            (None, Some(now)) => options = options.clock(ServerClock::At(server_time(now)?)),
            (None, None) => {}
        }
        Ok(options)
    }
}

/// One sync of an archive, ready to run on the libuv pool.
#[napi]
pub struct NativeSync {
    job: Arc<SyncJob>,
}

struct SyncJob {
    client: Client,
    path: PathBuf,
    offset: FixedOffset,
    options: SyncOptions,
    cancel: Arc<AtomicBool>,
    started: AtomicBool,
}

impl std::fmt::Debug for NativeSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Client`'s Debug redacts the key.
        f.debug_struct("NativeSync").field("client", &self.job.client).field("path", &self.job.path).finish()
    }
}

impl NativeSync {
    pub(crate) fn new(client: Client, offset: FixedOffset, path: &str, settings: &SyncSettings) -> CoreResult<Self> {
        let path = path_arg(path)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let options = settings.options()?.cancel_flag(cancel.clone());
        Ok(NativeSync {
            job: Arc::new(SyncJob { client, path, offset, options, cancel, started: AtomicBool::new(false) }),
        })
    }
}

#[napi]
impl NativeSync {
    /// Runs the sync on the libuv pool (once).
    #[napi(ts_return_type = "Promise<SyncReport>")]
    pub fn run(&self) -> AsyncTask<Job<SyncReport>> {
        let job = self.job.clone();
        Job::spawn(move || {
            if job.started.swap(true, Ordering::AcqRel) {
                return Err(Failure::Usage("this sync has already run".into()));
            }
            let mut archive = Archive::open(&job.path)?.with_server_offset(job.offset);
            let report = archive.sync(&job.client, &job.options, |_| {})?;
            Ok(SyncReport::from(&report))
        })
    }

    /// Stops the sync after the page being written. Never blocks.
    #[napi]
    pub fn cancel(&self) {
        self.job.cancel.store(true, Ordering::Release);
    }
}

/// One planned day and why it is read.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct PlannedDay {
    /// `yyyy-MM-dd`.
    pub day: String,
    /// `new`, `incomplete`, `lookback` or `sending`.
    pub reason: String,
}

/// What a sync did.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The run's `sync_runs` row.
    pub run_id: i64,
    /// `complete`, or `inexact` when some days kept moving (read again next time).
    pub outcome: String,
    /// The server's today the plan was made on.
    pub today: String,
    /// The first day considered.
    pub start: String,
    /// The `since` asked for, when it was past the retention.
    pub clamped_since: Option<String>,
    /// Days the plan read.
    pub days_planned: u32,
    /// Each planned day and why.
    pub planned: Vec<PlannedDay>,
    /// Days skipped: read less than `rescanAfterMs` ago.
    pub skipped_recent: Vec<String>,
    /// Days read to the end.
    pub days_read: u32,
    /// Days still moving when read.
    pub inexact_days: Vec<String>,
    /// Requests sent, retries included.
    pub requests: i64,
    /// Records read.
    pub records_seen: i64,
    /// Emails new to the archive.
    pub inserted: i64,
    /// Emails whose state changed.
    pub changed: i64,
    /// Emails seen again unchanged.
    pub unchanged: i64,
    /// Records older than the archived state, ignored.
    pub stale: i64,
    /// Records without an email id.
    pub without_id: i64,
    /// The exports' counters, merged.
    pub stats: Stats,
}

impl From<&CoreSyncReport> for SyncReport {
    fn from(r: &CoreSyncReport) -> Self {
        let day = |d: &NaiveDate| d.to_string();
        SyncReport {
            run_id: r.run_id,
            outcome: if r.is_exact() { "complete" } else { "inexact" }.to_owned(),
            today: r.plan.today.to_string(),
            start: r.plan.start.to_string(),
            clamped_since: r.plan.clamped_since.as_ref().map(day),
            days_planned: u32::try_from(r.plan.days.len()).unwrap_or(u32::MAX),
            planned: r
                .plan
                .days
                .iter()
                .map(|p| PlannedDay { day: p.day.to_string(), reason: p.reason.as_str().to_owned() })
                .collect(),
            skipped_recent: r.plan.skipped_recent.iter().map(day).collect(),
            days_read: u32::try_from(r.days_read).unwrap_or(u32::MAX),
            inexact_days: r.inexact_days.iter().map(day).collect(),
            requests: count(r.requests),
            records_seen: count(r.records_seen),
            inserted: count(r.ingested.inserted),
            changed: count(r.ingested.changed),
            unchanged: count(r.ingested.unchanged),
            stale: count(r.ingested.stale),
            without_id: count(r.ingested.without_id),
            stats: Stats::from(&r.stats),
        }
    }
}

/// Settings of `new Archive(path, options)`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default, Clone)]
pub struct ArchiveOptions {
    /// The server's UTC offset, like `+08:00` (the default): `days` count back from today there.
    pub server_utc_offset: Option<String>,
}

enum Conn {
    Unopened,
    Open(Box<Archive>),
    Closed,
}

struct Shared {
    path: PathBuf,
    offset: FixedOffset,
    conn: Mutex<Conn>,
}

impl Shared {
    /// Runs `f` on the connection, opening it first if needed. On the pool.
    fn with<T>(
        &self,
        f: impl FnOnce(&Archive) -> sendcloud_status_archive::Result<T>,
    ) -> std::result::Result<T, Failure> {
        let mut conn = lock(&self.conn);
        if matches!(*conn, Conn::Unopened) {
            let archive = Archive::open_existing(&self.path)?.with_server_offset(self.offset);
            *conn = Conn::Open(Box::new(archive));
        }
        match &*conn {
            Conn::Open(archive) => Ok(f(archive)?),
            _ => Err(Failure::Usage("the archive is closed".into())),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing may checkpoint the WAL: never on the event loop's thread
        // (garbage collection drops this there).
        let conn =
            std::mem::replace(self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner), Conn::Closed);
        if let Conn::Open(archive) = conn {
            let _ = std::thread::Builder::new().name("sendcloud-archive-close".into()).spawn(move || drop(archive));
        }
    }
}

/// An archive read offline. See the module doc.
#[napi]
pub struct NativeArchive {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for NativeArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeArchive").field("path", &self.shared.path).finish_non_exhaustive()
    }
}

impl NativeArchive {
    /// The selection the filters describe: `days` counted back from `today`
    /// (default: today at the archive's offset); no window, every day.
    fn selection(&self, options: &QueryOptions) -> CoreResult<Selection> {
        if options.label_id.is_some() || options.label_name.is_some() {
            let field = if options.label_id.is_some() { "label_id" } else { "label_name" };
            return Err(CoreError::validation(
                field,
                "the archive cannot filter by label: the API's rows carry no label (query online instead)",
            ));
        }
        let window = options.days.is_some() || options.start_date.is_some() || options.end_date.is_some();
        let query: Query = if window {
            options.query()?
        } else {
            // Every day: a placeholder window for the query's checks, dropped below.
            QueryOptions { days: Some(1.0), ..options.clone() }.query()?
        };
        let today = match options.today()? {
            Some(day) => day,
            None => sendcloud_status::chrono::Utc::now().with_timezone(&self.shared.offset).date_naive(),
        };
        let mut selection = Selection::from_query(&query, today)
            .map_err(|e| CoreError::validation("window", format!("the archive cannot answer this query: {e}")))?;
        if !window {
            selection.dates = None;
        }
        Ok(selection)
    }
}

#[napi]
impl NativeArchive {
    /// The archive at `path`; nothing is opened until the first call.
    #[napi(constructor)]
    pub fn new(env: Env, path: String, options: Option<ArchiveOptions>) -> Result<Self> {
        let options = options.unwrap_or_default();
        checked(&env, || {
            let path = path_arg(&path)?;
            let offset = match &options.server_utc_offset {
                Some(o) => utc_offset(o)?,
                None => sendcloud_status::core::Decoder::default().offset(),
            };
            Ok(NativeArchive { shared: Arc::new(Shared { path, offset, conn: Mutex::new(Conn::Unopened) }) })
        })
    }

    /// The archive file.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.shared.path.display().to_string()
    }

    /// The selected records, streamed by a reader thread.
    #[napi]
    pub fn records(&self, env: Env, options: QueryOptions) -> Result<NativeArchiveRecords> {
        let selection = checked(&env, || self.selection(&options))?;
        if matches!(*lock(&self.shared.conn), Conn::Closed) {
            return Err(napi::Error::new(Status::GenericFailure, "the archive is closed"));
        }
        let stream = RecordStream::start(self.shared.path.clone(), self.shared.offset, selection)
            .map_err(|e| crate::error::internal(format!("cannot start the archive reader: {e}")))?;
        Ok(NativeArchiveRecords { stream: Arc::new(stream) })
    }

    /// The deliverability summary of the selected records.
    #[napi(ts_return_type = "Promise<SummaryResult>")]
    pub fn summary(&self, env: Env, options: QueryOptions) -> Result<AsyncTask<Job<SummaryResult>>> {
        let selection = checked(&env, || self.selection(&options))?;
        let shared = self.shared.clone();
        Ok(Job::spawn(move || {
            let mut summary = Summary::default();
            shared.with(|archive| {
                archive.scan(&selection, |r| {
                    summary.add(&r);
                    std::ops::ControlFlow::Continue(())
                })
            })?;
            Ok(SummaryResult::from(&summary))
        }))
    }

    /// The addresses to stop mailing among the selected records.
    #[napi(ts_return_type = "Promise<SuppressionEntry[]>")]
    pub fn suppressions(&self, env: Env, options: QueryOptions) -> Result<AsyncTask<Job<Vec<SuppressionEntry>>>> {
        let (selection, threshold) = checked(&env, || Ok((self.selection(&options)?, options.soft_bounces()?)))?;
        let shared = self.shared.clone();
        Ok(Job::spawn(move || {
            let mut list = match threshold {
                Some(n) => Suppressions::new().with_soft_bounce_threshold(n),
                None => Suppressions::new(),
            };
            shared.with(|archive| {
                archive.scan(&selection, |r| {
                    list.add(&r);
                    std::ops::ControlFlow::Continue(())
                })
            })?;
            Ok(list.entries().into_iter().map(SuppressionEntry::from).collect())
        }))
    }

    /// Every archived email sent to an address (case-insensitively), or the
    /// one with that id (ids hold a `$`), with the states it went through.
    #[napi(ts_return_type = "Promise<ArchivedEmail[]>")]
    pub fn history(&self, env: Env, address_or_id: String) -> Result<AsyncTask<Job<Vec<ArchivedEmail>>>> {
        let target = address_or_id.trim().to_owned();
        if target.is_empty() {
            let e = CoreError::validation("address_or_id", "give an address or an email id");
            return Err(crate::error::js_error(&env, &e));
        }
        let selection = Selection::all().address_or_email_id(&target);
        let shared = self.shared.clone();
        Ok(Job::spawn(move || {
            let emails = shared.with(|archive| archive.emails(&selection))?;
            Ok(emails.into_iter().map(ArchivedEmail::from).collect())
        }))
    }

    /// Closes the connection on the pool (open streams keep theirs).
    /// Idempotent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<Job<()>> {
        let shared = self.shared.clone();
        Job::spawn(move || {
            let conn = std::mem::replace(&mut *lock(&shared.conn), Conn::Closed);
            drop(conn);
            Ok(())
        })
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        matches!(*lock(&self.shared.conn), Conn::Closed)
    }
}

fn time(text: Option<&str>) -> Option<DateTime<FixedOffset>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
}

/// One state an archived email was seen in.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The status text, as the server wrote it.
    pub status: Option<String>,
    /// `delivered`, `invalid`, `soft_bounce`, `sending` or `unknown`.
    pub category: String,
    /// The bounce sub-status code.
    pub sub_status: Option<u32>,
    /// The row's `modifiedTime` in that state, if it parsed.
    pub modified_time: Option<DateTime<FixedOffset>>,
    /// `modifiedTime` as archived (RFC 3339, or as received when it did not parse).
    pub modified_time_raw: Option<String>,
    /// When a sync first saw the state.
    pub seen_at: Option<DateTime<FixedOffset>>,
}

/// One archived email: its current record and the states it went through.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct ArchivedEmail {
    /// The current state.
    pub record: EmailRecord,
    /// When a sync first saw it.
    pub first_seen_at: Option<DateTime<FixedOffset>>,
    /// When a sync last saw it.
    pub last_seen_at: Option<DateTime<FixedOffset>>,
    /// Every state observed, oldest first.
    pub history: Vec<HistoryEntry>,
}

impl From<CoreArchivedEmail> for ArchivedEmail {
    fn from(e: CoreArchivedEmail) -> Self {
        ArchivedEmail {
            first_seen_at: time(Some(&e.first_seen_at)),
            last_seen_at: time(Some(&e.last_seen_at)),
            history: e
                .history
                .iter()
                .map(|h| HistoryEntry {
                    status: h.status.clone(),
                    category: h.category.name().to_owned(),
                    sub_status: h.sub_status.map(u32::from),
                    modified_time: time(h.modified_time.as_deref()),
                    modified_time_raw: h.modified_time.clone(),
                    seen_at: time(Some(&h.seen_at)),
                })
                .collect(),
            record: EmailRecord::from(e.record),
        }
    }
}

/// The records of an archive selection; each `nextBatch()` waits for the
/// reader thread on the libuv pool.
#[napi]
#[derive(Debug)]
pub struct NativeArchiveRecords {
    stream: Arc<RecordStream>,
}

/// A batch of archived records (`done`: none left).
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct ArchiveBatch {
    /// The records, in the server's order.
    pub records: Vec<EmailRecord>,
    /// The stream has ended.
    pub done: bool,
}

#[napi]
impl NativeArchiveRecords {
    /// The next batch (an empty, `done` one at the end).
    #[napi(ts_return_type = "Promise<ArchiveBatch>")]
    pub fn next_batch(&self) -> AsyncTask<Job<ArchiveBatch>> {
        let stream = self.stream.clone();
        Job::spawn(move || match stream.next() {
            Next::Batch(records) => {
                Ok(ArchiveBatch { records: records.into_iter().map(EmailRecord::from).collect(), done: false })
            }
            Next::End => Ok(ArchiveBatch { records: Vec::new(), done: true }),
            Next::Failed(e) => Err(Failure::from(e)),
            _ => Err(Failure::Internal("the archive reader stopped unexpectedly".into())),
        })
    }

    /// Stops the reader thread; a pending `nextBatch()` resolves `done`.
    /// Never blocks.
    #[napi]
    pub fn close(&self) {
        self.stream.close();
    }
}

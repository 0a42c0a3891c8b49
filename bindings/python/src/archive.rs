//! The local archive (`sendcloud-status-archive`) from Python: `NativeSync`
//! (one `client.sync(path)` run, cancellable), `NativeArchive` (an archive
//! opened for reading) and `NativeArchiveRecords` (its records, streamed).
//!
//! Every SQLite read and every sync runs with the GIL released. A sync
//! checks for signals after each page it writes (on the main thread: Ctrl-C
//! stops it there, every whole page kept); `cancel()` does the same from any
//! thread, for asyncio.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDate};
use sendcloud_status::core::query::parse_date;
use sendcloud_status::core::sync::SyncPolicy;
use sendcloud_status::{Client, Query};
use sendcloud_status_archive::{
    Archive, ArchivedEmail, Error as ArchiveError, Selection, ServerClock, SyncOptions, SyncReport,
};

use crate::convert;
use crate::errors::{OrRaise, OrRaiseArchive, archive_err, validation};
use crate::export::NativeReport;
use crate::query::{build_query, int};
use sendcloud_status_archive::{Next, RecordStream};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A path argument: `str` or `os.PathLike`, not empty.
pub(crate) fn path_arg(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let bad = || validation(py, "path", "must be a non-empty str or os.PathLike naming the archive file");
    let path: PathBuf = v.extract().map_err(|_| bad())?;
    if path.as_os_str().is_empty() { Err(bad()) } else { Ok(path) }
}

/// A count of days ≥ 0.
fn days(py: Python<'_>, field: &'static str, v: &Bound<'_, PyAny>) -> PyResult<u32> {
    u32::try_from(int(py, field, v)?).map_err(|_| validation(py, field, "must be a whole number of days ≥ 0"))
}

/// The settings of one sync, validated before anything is opened or sent.
pub(crate) struct SyncSettings<'py> {
    pub since: Option<&'py Bound<'py, PyAny>>,
    pub lookback_days: &'py Bound<'py, PyAny>,
    pub sending_max_age_days: &'py Bound<'py, PyAny>,
    pub rescan_after: &'py Bound<'py, PyAny>,
    pub api_users: Option<&'py Bound<'py, PyAny>>,
    pub today: Option<&'py Bound<'py, PyAny>>,
    pub server_now: Option<ServerClock>,
}

/// One sync of an archive, ready to run. See the module doc.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeSync {
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
        f.debug_struct("NativeSync").field("client", &self.client).field("path", &self.path).finish_non_exhaustive()
    }
}

impl NativeSync {
    pub(crate) fn new(
        py: Python<'_>,
        client: Client,
        offset: FixedOffset,
        path: &Bound<'_, PyAny>,
        s: SyncSettings<'_>,
    ) -> PyResult<NativeSync> {
        let path = path_arg(py, path)?;
        let mut policy = SyncPolicy::default()
            .lookback_days(days(py, "lookback_days", s.lookback_days)?)
            .sending_max_age_days(days(py, "sending_max_age_days", s.sending_max_age_days)?);
        if let Some(v) = s.since.filter(|v| !v.is_none()) {
            let day = crate::query::date(py, "since", v)?;
            policy = policy.since(Some(parse_date("since", &day).or_raise(py)?));
        }
        let rescan: f64 =
            s.rescan_after.extract().map_err(|_| validation(py, "rescan_after", "must be a number of seconds ≥ 0"))?;
        let rescan = Duration::try_from_secs_f64(rescan)
            .map_err(|_| validation(py, "rescan_after", format!("must be a number of seconds ≥ 0, got {rescan}")))?;
        policy = policy.rescan_after(rescan);
        let mut options = SyncOptions::default().policy(policy);
        if let Some(users) = s.api_users.filter(|v| !v.is_none()) {
            options = options.api_users(api_users(py, users)?);
        }
        let today = s.today.filter(|v| !v.is_none());
        match (today, s.server_now) {
            (Some(_), Some(_)) => {
                return Err(validation(
                    py,
                    "server_now",
                    "give today or server_now, not both (server_now sets the day as well as the time)",
                ));
            }
            (Some(t), None) => {
                let day = crate::query::date(py, "today", t)?;
                options = options.clock(ServerClock::Day(parse_date("today", &day).or_raise(py)?));
            }
            (None, Some(clock)) => options = options.clock(clock),
            (None, None) => {}
        }
        let cancel = Arc::new(AtomicBool::new(false));
        options = options.cancel_flag(cancel.clone());
        Ok(NativeSync { client, path, offset, options, cancel, started: AtomicBool::new(false) })
    }
}

/// `api_users`: one name or an iterable of names, none blank.
fn api_users(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let bad = || validation(py, "api_users", "must be a non-empty apiUser name or an iterable of them");
    let names: Vec<String> = if let Ok(s) = v.cast::<PyString>() {
        vec![s.to_string()]
    } else {
        v.try_iter()
            .map_err(|_| bad())?
            .map(|item| item.and_then(|i| i.extract::<String>()).map_err(|_| bad()))
            .collect::<PyResult<_>>()?
    };
    if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
        return Err(bad());
    }
    Ok(names)
}

#[pymethods]
impl NativeSync {
    /// Runs the sync with the GIL released: the report as a dict. Checks
    /// for signals after every page (on the main thread, Ctrl-C stops the
    /// sync there and raises `KeyboardInterrupt`). Runs once.
    fn run<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if self.started.swap(true, Ordering::AcqRel) {
            return Err(PyRuntimeError::new_err("this sync has already run"));
        }
        let pending: Mutex<Option<PyErr>> = Mutex::new(None);
        let result = py.detach(|| {
            let mut archive = Archive::open(&self.path)?.with_server_offset(self.offset);
            archive.sync(&self.client, &self.options, |_| {
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    *lock(&pending) = Some(e);
                    self.cancel.store(true, Ordering::Release);
                }
            })
        });
        match result {
            Ok(report) => sync_report(py, &report),
            Err(ArchiveError::Cancelled) => {
                Err(lock(&pending).take().unwrap_or_else(|| archive_err(py, &ArchiveError::Cancelled)))
            }
            Err(e) => Err(archive_err(py, &e)),
        }
    }

    /// Stops the sync after the page being written (from any thread).
    /// Idempotent; never blocks.
    fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
    }

    fn __repr__(&self) -> String {
        format!("NativeSync(path={:?})", self.path.display().to_string())
    }
}

/// A `SyncReport` as a dict (the package's `SyncReport` dataclass fields).
fn sync_report<'py>(py: Python<'py>, r: &SyncReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("run_id", r.run_id)?;
    d.set_item("outcome", if r.is_exact() { "complete" } else { "inexact" })?;
    d.set_item("today", r.plan.today)?;
    d.set_item("start", r.plan.start)?;
    d.set_item("clamped_since", r.plan.clamped_since)?;
    d.set_item("days_planned", r.plan.days.len())?;
    let planned = r.plan.days.iter().map(|p| (p.day, p.reason.as_str())).collect::<Vec<_>>();
    d.set_item("planned", planned)?;
    d.set_item("skipped_recent", r.plan.skipped_recent.clone())?;
    d.set_item("days_read", r.days_read)?;
    d.set_item("inexact_days", r.inexact_days.clone())?;
    d.set_item("requests", r.requests)?;
    d.set_item("records_seen", r.records_seen)?;
    d.set_item("inserted", r.ingested.inserted)?;
    d.set_item("changed", r.ingested.changed)?;
    d.set_item("unchanged", r.ingested.unchanged)?;
    d.set_item("stale", r.ingested.stale)?;
    d.set_item("without_id", r.ingested.without_id)?;
    d.set_item("stats", convert::stats(py, &r.stats)?)?;
    Ok(d)
}

/// An archive opened for reading: one SQLite connection, used with the GIL
/// released, one call at a time.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeArchive {
    path: PathBuf,
    offset: FixedOffset,
    /// `None` once closed.
    conn: Mutex<Option<Archive>>,
}

impl std::fmt::Debug for NativeArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeArchive").field("path", &self.path).finish_non_exhaustive()
    }
}

impl NativeArchive {
    /// Runs `f` on the connection with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Archive) -> sendcloud_status_archive::Result<T> + Send,
    ) -> PyResult<T> {
        let conn = &self.conn;
        py.detach(|| {
            let guard = lock(conn);
            guard.as_ref().map(f)
        })
        .ok_or_else(|| PyRuntimeError::new_err("the archive is closed"))?
        .or_raise_archive(py)
    }

    /// The selection the filters describe, `days` counted back from `today`
    /// (default: today at the archive's server offset). Without a window,
    /// every archived day.
    fn selection(
        &self,
        py: Python<'_>,
        today: Option<&Bound<'_, PyAny>>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Selection> {
        let filters = match filters {
            Some(f) => f.copy()?,
            None => PyDict::new(py),
        };
        for name in ["start", "limit"] {
            if filters.get_item(name)?.is_some() {
                return Err(PyTypeError::new_err(format!(
                    "unexpected filter {name:?}: the archive is read whole, not by pages"
                )));
            }
        }
        let window = ["days", "start_date", "end_date"]
            .iter()
            .try_fold(false, |any, k| Ok::<_, PyErr>(any || filters.get_item(k)?.is_some_and(|v| !v.is_none())))?;
        if !window {
            // Every day: a placeholder window for the query's checks, dropped below.
            filters.set_item("days", 1)?;
        }
        let query: Query = build_query(py, Some(&filters))?;
        if query.label_id().is_some() || query.label_name().is_some() {
            let field = if query.label_id().is_some() { "label_id" } else { "label_name" };
            return Err(validation(
                py,
                field,
                "the archive cannot filter by label: the API's rows carry no label (query online instead)",
            ));
        }
        let today = match today.filter(|v| !v.is_none()) {
            Some(t) => parse_date("today", &crate::query::date(py, "today", t)?).or_raise(py)?,
            None => server_today(self.offset),
        };
        let mut selection = Selection::from_query(&query, today).or_raise_archive(py)?;
        if !window {
            selection.dates = None;
        }
        Ok(selection)
    }
}

impl Drop for NativeArchive {
    fn drop(&mut self) {
        // Closing may checkpoint the WAL: disk I/O, which garbage collection
        // would otherwise do with the GIL held.
        let conn = self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(archive) = conn {
            let _ = std::thread::Builder::new().name("sendcloud-archive-close".into()).spawn(move || drop(archive));
        }
    }
}

fn server_today(offset: FixedOffset) -> NaiveDate {
    sendcloud_status::chrono::Utc::now().with_timezone(&offset).date_naive()
}

#[pymethods]
impl NativeArchive {
    /// Opens the archive at `path`, which must exist (the GIL is released
    /// while SQLite opens it).
    #[new]
    #[pyo3(signature = (path, *, server_utc_offset=None))]
    fn new(py: Python<'_>, path: &Bound<'_, PyAny>, server_utc_offset: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let path = path_arg(py, path)?;
        let offset = match server_utc_offset {
            Some(v) if !v.is_none() => crate::client::utc_offset(py, v)?,
            _ => sendcloud_status::core::Decoder::default().offset(),
        };
        let archive =
            py.detach(|| Archive::open_existing(&path).map(|a| a.with_server_offset(offset))).or_raise_archive(py)?;
        Ok(NativeArchive { path, offset, conn: Mutex::new(Some(archive)) })
    }

    /// The archive file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The archived records the filters select, streamed in the server's
    /// order (request time, then email id).
    #[pyo3(signature = (*, today=None, **filters))]
    fn records(
        &self,
        py: Python<'_>,
        today: Option<&Bound<'_, PyAny>>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<NativeArchiveRecords> {
        let selection = self.selection(py, today, filters)?;
        if lock(&self.conn).is_none() {
            return Err(PyRuntimeError::new_err("the archive is closed"));
        }
        let stream = RecordStream::start(self.path.clone(), self.offset, selection)
            .map_err(|e| archive_err(py, &ArchiveError::Io { path: self.path.clone(), source: e }))?;
        Ok(NativeArchiveRecords {
            stream,
            buffer: Mutex::new(VecDeque::new()),
            busy: AtomicBool::new(false),
            done: AtomicBool::new(false),
        })
    }

    /// Feeds every selected record into `report` (no Python object per
    /// record); the GIL is released.
    #[pyo3(signature = (report, *, today=None, **filters))]
    fn feed(
        &self,
        py: Python<'_>,
        report: &NativeReport,
        today: Option<&Bound<'_, PyAny>>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let selection = self.selection(py, today, filters)?;
        self.with(py, |archive| {
            archive.scan(&selection, |r| {
                report.add(&r);
                std::ops::ControlFlow::Continue(())
            })
        })
    }

    /// Every archived email sent to an address (case-insensitively), or the
    /// one email with that id (ids hold a `$`): `(record, first_seen_at,
    /// last_seen_at, [(status, category, sub_status, modified_time,
    /// modified_time_text, seen_at)])` each, oldest request first.
    fn history<'py>(&self, py: Python<'py>, address_or_id: &str) -> PyResult<Bound<'py, PyList>> {
        let target = address_or_id.trim().to_owned();
        if target.is_empty() {
            return Err(validation(py, "address_or_id", "give an address or an email id"));
        }
        let selection = Selection::all().address_or_email_id(&target);
        let emails = self.with(py, |archive| archive.emails(&selection))?;
        let items = emails.iter().map(|e| archived_email(py, e)).collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Closes the connection (open record streams keep their own). Idempotent.
    fn close(&self, py: Python<'_>) {
        let conn = &self.conn;
        // Closing may checkpoint the WAL: disk I/O, without the GIL.
        py.detach(|| drop(lock(conn).take()));
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        lock(&self.conn).is_none()
    }

    fn __repr__(&self) -> String {
        format!("NativeArchive(path={:?})", self.path.display().to_string())
    }
}

/// An RFC 3339 text as an aware `datetime`, or `None` when it is not one
/// (a time the server sent in an unreadable form, kept as received).
fn rfc3339<'py>(py: Python<'py>, text: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    match text.and_then(|t| DateTime::<FixedOffset>::parse_from_rfc3339(t).ok()) {
        Some(t) => Ok(t.into_pyobject(py)?.into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

fn archived_email<'py>(py: Python<'py>, e: &ArchivedEmail) -> PyResult<Bound<'py, PyTuple>> {
    let mut times = convert::Times::new(py);
    let record = convert::record(&mut times, &e.record)?;
    let history = e
        .history
        .iter()
        .map(|h| {
            (
                h.status.as_deref(),
                h.category.name(),
                h.sub_status,
                rfc3339(py, h.modified_time.as_deref())?,
                h.modified_time.as_deref(),
                rfc3339(py, Some(&h.seen_at))?,
            )
                .into_pyobject(py)
        })
        .collect::<PyResult<Vec<_>>>()?;
    (record, rfc3339(py, Some(&e.first_seen_at))?, rfc3339(py, Some(&e.last_seen_at))?, history).into_pyobject(py)
}

/// The records of an archive selection, fetched in batches by a reader
/// thread (see `stream`), handed out as record tuples.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeArchiveRecords {
    stream: RecordStream,
    buffer: Mutex<VecDeque<Py<PyAny>>>,
    busy: AtomicBool,
    done: AtomicBool,
}

impl std::fmt::Debug for NativeArchiveRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeArchiveRecords").field("done", &self.done.load(Ordering::Relaxed)).finish()
    }
}

#[pymethods]
impl NativeArchiveRecords {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next record tuple; waits for the next batch with the GIL released.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if let Some(r) = lock(&self.buffer).pop_front() {
                return Ok(Some(r));
            }
            if self.done.load(Ordering::Acquire) {
                return Ok(None);
            }
            if self.busy.swap(true, Ordering::AcqRel) {
                return Err(PyRuntimeError::new_err("these records are already being read in another thread"));
            }
            let stream = &self.stream;
            let next = py.detach(|| stream.next());
            self.busy.store(false, Ordering::Release);
            match next {
                Next::Batch(records) => {
                    let mut times = convert::Times::new(py);
                    let tuples = records
                        .iter()
                        .map(|r| convert::record(&mut times, r).map(|t| t.into_any().unbind()))
                        .collect::<PyResult<Vec<_>>>()?;
                    if !self.done.load(Ordering::Acquire) {
                        lock(&self.buffer).extend(tuples);
                    }
                }
                Next::End => self.done.store(true, Ordering::Release),
                Next::Failed(e) => {
                    self.done.store(true, Ordering::Release);
                    return Err(archive_err(py, &e));
                }
                _ => {
                    self.done.store(true, Ordering::Release);
                    return Err(PyRuntimeError::new_err(
                        "sendcloud-status: internal error: the archive reader stopped unexpectedly",
                    ));
                }
            }
        }
    }

    /// Stops reading: the reader thread ends, buffered records are dropped,
    /// iteration ends. Idempotent; never blocks.
    fn close(&self) {
        self.done.store(true, Ordering::Release);
        self.stream.close();
        let dropped = std::mem::take(&mut *lock(&self.buffer));
        drop(dropped);
    }

    /// Whether the stream has ended (every record handed out, failed, or closed).
    #[getter]
    fn done(&self) -> bool {
        self.done.load(Ordering::Acquire) && lock(&self.buffer).is_empty()
    }
}

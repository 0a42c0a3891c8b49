//! `NativeExport`: the records of an export, fetched page by page with the
//! GIL released, resumable through `cursor`; and `NativeReport`, the core's
//! aggregates fed page by page without building Python objects.
//!
//! Locking: `pages` is only locked with the GIL released (inside
//! `py.detach`), `state` only briefly with the GIL held and never across a
//! call that could release it, so neither can deadlock against the GIL. A
//! second thread advancing the same export while a page is being fetched
//! gets a `RuntimeError`, like a generator that is already executing.
//!
//! Closing: `close()` cancels the export through its `CancelHandle`, without
//! waiting for a fetch in progress (which then ends quietly); dropping the
//! object (garbage collection) cancels too, as `Pages` does on drop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sendcloud_status::core::report::{Summary, Suppressions};
use sendcloud_status::{CancelHandle, Cursor, ExportStats, Page, Pages, Record, settings};

use crate::convert;
use crate::errors::OrRaise;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; recover rather than panic.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Marks an export (or a watch) as advancing; cleared on drop, even on unwinding.
pub(crate) struct Busy<'a>(&'a AtomicBool);

impl<'a> Busy<'a> {
    /// `message` is the `RuntimeError` of a second thread advancing it at once.
    pub(crate) fn acquire(flag: &'a AtomicBool, message: &'static str) -> PyResult<Self> {
        if flag.swap(true, Ordering::AcqRel) {
            return Err(PyRuntimeError::new_err(message));
        }
        Ok(Busy(flag))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[derive(Default)]
struct State {
    /// Record tuples of the current page not handed out yet.
    buffer: VecDeque<Py<PyAny>>,
    /// The current page (its records moved to `buffer`), for `cursor_at`.
    current: Option<Page>,
    /// Records of the current page handed out.
    taken: usize,
    /// The export's cursor after the last fetched page.
    cursor: Option<Cursor>,
    stats: ExportStats,
    done: bool,
    /// `close()` was called: the export ends quietly, `cursor` is frozen.
    closed: bool,
}

/// The records of one export, lazily. See the module doc.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeExport {
    pages: Mutex<Pages>,
    busy: AtomicBool,
    state: Mutex<State>,
    /// Cancels without the `pages` lock, which a fetch may be holding.
    cancel: CancelHandle,
}

impl std::fmt::Debug for NativeExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("NativeExport").field("buffered", &st.buffer.len()).field("done", &st.done).finish()
    }
}

type Fetched = (Option<sendcloud_status::Result<Page>>, Option<Cursor>, ExportStats);

impl NativeExport {
    pub(crate) fn new(pages: Pages) -> Self {
        let state = State { cursor: pages.cursor(), ..State::default() };
        let cancel = pages.cancel_handle();
        NativeExport { pages: Mutex::new(pages), busy: AtomicBool::new(false), state: Mutex::new(state), cancel }
    }

    /// The resume point after the records handed out so far (the core's rule).
    fn resume_point(st: &State) -> Option<Cursor> {
        Page::resume_point(st.current.as_ref(), st.taken, st.cursor)
    }

    /// Fetches the next page with the GIL released; `f` runs on it there
    /// (still without the GIL).
    fn fetch<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut Page) -> T + Send) -> PyResult<(Fetched, Option<T>)> {
        let _busy = Busy::acquire(&self.busy, "this export is already fetching a page in another thread")?;
        let pages = &self.pages;
        Ok(py.detach(|| {
            let mut pages = lock(pages);
            let mut next = pages.next();
            let extra = match &mut next {
                Some(Ok(page)) => Some(f(page)),
                _ => None,
            };
            ((next, pages.cursor(), pages.stats().clone()), extra)
        }))
    }

    fn take(&self) -> Option<Py<PyAny>> {
        let mut st = lock(&self.state);
        let r = st.buffer.pop_front()?;
        st.taken += 1;
        Some(r)
    }
}

#[pymethods]
impl NativeExport {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next record tuple; fetches the next page (GIL released) when the
    /// current one is used up, checking for signals (Ctrl-C) first.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if let Some(r) = self.take() {
            return Ok(Some(r));
        }
        Ok(if self.fill(py)? { self.take() } else { None })
    }

    /// Blocks until at least one record is buffered (fetching pages as
    /// needed); `False` once the export is complete. For worker threads.
    fn fill(&self, py: Python<'_>) -> PyResult<bool> {
        loop {
            {
                let st = lock(&self.state);
                if !st.buffer.is_empty() {
                    return Ok(true);
                }
                if st.done {
                    return Ok(false);
                }
            }
            py.check_signals()?;
            let ((next, cursor, stats), _) = self.fetch(py, |_| ())?;
            if lock(&self.state).closed {
                // Closed while fetching (the fetch was cancelled): end quietly.
                return Ok(false);
            }
            let (page, tuples) = match next {
                Some(Ok(mut page)) => {
                    let records = std::mem::take(&mut page.records);
                    let mut times = convert::Times::new(py);
                    let tuples = records
                        .iter()
                        .map(|r| convert::record(&mut times, r).map(|t| t.into_any().unbind()))
                        .collect::<PyResult<Vec<_>>>()?;
                    (Some(page), tuples)
                }
                other => {
                    let mut st = lock(&self.state);
                    st.done = true;
                    st.cursor = cursor;
                    st.stats = stats;
                    drop(st);
                    return match other {
                        Some(Err(e)) => Err(crate::errors::to_py_err(py, &e)),
                        _ => Ok(false),
                    };
                }
            };
            {
                let mut st = lock(&self.state);
                st.buffer.extend(tuples);
                st.current = page;
                st.taken = 0;
                st.cursor = cursor;
                st.stats = stats;
            }
            // A Ctrl-C that arrived during the fetch is raised now, with the
            // page safely buffered, rather than by the interpreter after a
            // record was handed out (which would lose that record).
            py.check_signals()?;
        }
    }

    /// The next buffered record tuple, or `None`; never fetches.
    #[pyo3(name = "take")]
    fn py_take(&self) -> Option<Py<PyAny>> {
        self.take()
    }

    /// Records fetched but not handed out yet.
    #[getter]
    fn buffered(&self) -> usize {
        lock(&self.state).buffer.len()
    }

    /// Fetches the next page into `report` instead of building records;
    /// `False` once the export is complete.
    fn feed(&self, py: Python<'_>, report: &NativeReport) -> PyResult<bool> {
        if !lock(&self.state).buffer.is_empty() {
            return Err(PyRuntimeError::new_err("feed() on an export with buffered records"));
        }
        if lock(&self.state).done {
            return Ok(false);
        }
        py.check_signals()?;
        let report = &report.inner;
        let ((next, cursor, stats), _) = self.fetch(py, |page| {
            let mut report = lock(report);
            page.records.iter().for_each(|r| report.add(r));
        })?;
        let mut st = lock(&self.state);
        if st.closed {
            return Ok(false);
        }
        st.cursor = cursor;
        st.stats = stats;
        st.current = None;
        match next {
            Some(Ok(_)) => Ok(true),
            Some(Err(e)) => {
                st.done = true;
                drop(st);
                Err(crate::errors::to_py_err(py, &e))
            }
            None => {
                st.done = true;
                Ok(false)
            }
        }
    }

    /// Where to resume after the records handed out so far: the next record
    /// is the first one a resumed export delivers. `None` once complete.
    #[getter]
    fn cursor(&self) -> Option<String> {
        Self::resume_point(&lock(&self.state)).map(|c| c.to_string())
    }

    /// Stops the export: its requests and background threads are cancelled
    /// (a fetch in progress in another thread ends quietly), buffered
    /// records are dropped, and iteration ends. `cursor` keeps the resume
    /// point. Idempotent; never blocks.
    fn close(&self) {
        self.cancel.cancel();
        let dropped = {
            let mut st = lock(&self.state);
            st.cursor = Self::resume_point(&st);
            st.current = None;
            st.done = true;
            st.closed = true;
            std::mem::take(&mut st.buffer)
        };
        // Released outside the lock: freeing Python objects may run Python code.
        drop(dropped);
        // Free the driver and its threads now, unless a fetch holds it (it
        // ends soon, cancelled, and the drop of this object frees them).
        if let Ok(mut pages) = self.pages.try_lock() {
            pages.close();
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// The export's counters so far (`convert::stats`).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = lock(&self.state).stats.clone();
        convert::stats(py, &stats)
    }
}

enum Report {
    Summary(Box<Summary>),
    Suppressions(Box<Suppressions>),
}

impl Report {
    fn add(&mut self, r: &Record) {
        match self {
            Report::Summary(s) => s.add(r),
            Report::Suppressions(s) => s.add(r),
        }
    }
}

/// A core aggregate (`report::Summary` or `report::Suppressions`) filled by
/// `NativeExport.feed`.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeReport {
    inner: Mutex<Report>,
}

impl std::fmt::Debug for NativeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeReport")
    }
}

impl NativeReport {
    /// Adds one record (the archive feeds its records here).
    pub(crate) fn add(&self, r: &Record) {
        lock(&self.inner).add(r);
    }
}

#[pymethods]
impl NativeReport {
    /// A deliverability summary.
    #[staticmethod]
    fn summary() -> Self {
        NativeReport { inner: Mutex::new(Report::Summary(Box::default())) }
    }

    /// A suppression list: permanent failures, and with `soft_bounces=n`
    /// addresses that soft-bounced at least n times.
    #[staticmethod]
    #[pyo3(signature = (soft_bounces=None))]
    fn suppressions(py: Python<'_>, soft_bounces: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut s = Suppressions::new();
        if let Some(n) = soft_bounces.filter(|v| !v.is_none()) {
            let n = crate::query::int(py, "soft_bounces", n)?;
            s = s.with_soft_bounce_threshold(settings::SOFT_BOUNCES.check_u64("soft_bounces", n).or_raise(py)?);
        }
        Ok(NativeReport { inner: Mutex::new(Report::Suppressions(Box::new(s))) })
    }

    /// The report as Python values in the shapes of the CLI's JSON output
    /// (both come from the core's `Serialize`, not from JSON text): the
    /// summary dict, or the list of suppression dicts.
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = match &*lock(&self.inner) {
            Report::Summary(s) => serde_json::to_value(s),
            Report::Suppressions(s) => serde_json::to_value(s.entries()),
        };
        let value =
            value.map_err(|e| sendcloud_status::Error::internal(format!("a report's shape: {e}"))).or_raise(py)?;
        convert::json(py, &value)
    }
}

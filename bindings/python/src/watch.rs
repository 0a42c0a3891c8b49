//! `NativeWatch`: the client's [`Watcher`] driven from Python, one event
//! per `next_event()` call.
//!
//! Each call advances the watcher with the GIL released, in slices of at
//! most [`SLICE`] while it waits for the next poll, checking for signals
//! between slices (on the main thread, Ctrl-C raises `KeyboardInterrupt`
//! there). A poll runs inside one slice. `cancel()` (from any thread, for
//! asyncio) cancels the poll in progress or ends the wait at once; dropping
//! the object cancels too.
//!
//! Locking: `watcher` is only locked with the GIL released, `report` only
//! briefly with it held, so neither can deadlock against the GIL.

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyTuple};
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use sendcloud_status::core::watch::{Transition, WatchEnd};
use sendcloud_status::settings::{DurationBounds, TimeUnit};
use sendcloud_status::{Language, WatchCancelHandle, WatchEvent, WatchReport, WatchStep, Watcher};

use crate::errors::{to_py_err, validation};
use crate::export::Busy;
use crate::query::type_name;

/// The longest the GIL-free wait lasts before signals are checked.
const SLICE: Duration = Duration::from_millis(200);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; recover rather than panic.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A number of seconds (an int or a float, not a bool) within the core's `bounds`.
pub(crate) fn duration_arg(
    py: Python<'_>,
    bounds: DurationBounds,
    field: &'static str,
    v: &Bound<'_, PyAny>,
) -> PyResult<Duration> {
    let bad = || validation(py, field, format!("must be a number of seconds, got {}", type_name(v)));
    if v.is_instance_of::<PyBool>() || !(v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>()) {
        return Err(bad());
    }
    let s: f64 = v.extract().map_err(|_| bad())?;
    bounds.from_number(field, s, TimeUnit::Seconds).map_err(|e| to_py_err(py, &e))
}

/// One watch. See the module doc.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeWatch {
    watcher: Mutex<Watcher>,
    busy: AtomicBool,
    /// Cancels without the `watcher` lock, which a step may be holding.
    cancel: WatchCancelHandle,
    /// Set once the outcome was handed out.
    report: Mutex<Option<WatchReport>>,
    offset: FixedOffset,
}

impl std::fmt::Debug for NativeWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeWatch").field("cancel", &self.cancel).finish_non_exhaustive()
    }
}

impl NativeWatch {
    pub(crate) fn new(watcher: Watcher, offset: FixedOffset) -> Self {
        let cancel = watcher.cancel_handle();
        NativeWatch {
            watcher: Mutex::new(watcher),
            busy: AtomicBool::new(false),
            cancel,
            report: Mutex::new(None),
            offset,
        }
    }
}

/// A server-local time with the server's offset.
fn aware(offset: FixedOffset, t: NaiveDateTime) -> DateTime<FixedOffset> {
    offset.from_local_datetime(&t).single().unwrap_or_else(|| offset.from_utc_datetime(&t))
}

/// The `WatchTransitionTuple` of `_native.pyi`.
fn transition<'py>(py: Python<'py>, offset: FixedOffset, t: &Transition) -> PyResult<Bound<'py, PyTuple>> {
    let observed = aware(offset, t.observed_at);
    let items: [Bound<'py, PyAny>; 11] = [
        t.email_id.as_str().into_pyobject(py)?.into_any(),
        t.recipient.as_deref().into_pyobject(py)?.into_any(),
        t.from.map(|c| c.name()).into_pyobject(py)?.into_any(),
        t.from_sub_status.map(|s| s.code()).into_pyobject(py)?.into_any(),
        t.to.name().into_pyobject(py)?.into_any(),
        t.sub_status.map(|s| s.code()).into_pyobject(py)?.into_any(),
        t.sub_status.map(|s| s.describe(Language::English)).into_pyobject(py)?.into_any(),
        t.changed_at.into_pyobject(py)?.into_any(),
        t.changed_at.map(|d| d.to_rfc3339()).into_pyobject(py)?.into_any(),
        observed.into_pyobject(py)?.into_any(),
        observed.to_rfc3339().into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

fn end_name(end: WatchEnd) -> &'static str {
    match end {
        WatchEnd::AllDelivered => "all_delivered",
        WatchEnd::Failed => "failed",
        WatchEnd::DeadlinePassed => "deadline_passed",
        _ => "unknown",
    }
}

#[pymethods]
impl NativeWatch {
    /// The next event: `("transition", tuple)`, `("notice", text)` or
    /// `("done", None)`; `None` once the watch is over (done, failed or
    /// cancelled). Raises the error that ended the watch.
    fn next_event<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if self.cancel.is_cancelled() {
            return Ok(None);
        }
        let _busy = Busy::acquire(&self.busy, "this watch is already advancing in another thread")?;
        loop {
            let (step, report) = py.detach(|| {
                let mut watcher = lock(&self.watcher);
                let step = watcher.step(SLICE);
                (step, watcher.report().cloned())
            });
            match step.map_err(|e| to_py_err(py, &e))? {
                WatchStep::Event(WatchEvent::Transition(t)) => {
                    return Ok(Some(PyTuple::new(
                        py,
                        ["transition".into_pyobject(py)?.into_any(), transition(py, self.offset, &t)?.into_any()],
                    )?));
                }
                WatchStep::Event(WatchEvent::Notice(notice)) => {
                    return Ok(Some(("notice", notice.to_string()).into_pyobject(py)?));
                }
                WatchStep::Event(WatchEvent::Done(_)) => {
                    *lock(&self.report) = report;
                    return Ok(Some(("done", py.None()).into_pyobject(py)?));
                }
                // A failed poll is tried again at the next one (the error comes if it cannot be).
                WatchStep::Event(_) => {}
                WatchStep::Wait(_) => py.check_signals()?,
                // Ended.
                _ => return Ok(None),
            }
        }
    }

    /// Stops the watch from any thread: a poll in progress is cancelled, a
    /// wait ends, `next_event()` then returns `None`. Idempotent; never blocks.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether `cancel()` was called (or the object dropped).
    #[getter]
    fn closed(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// `(end, delivered, invalid, soft_bounced, pending, polls)` once the
    /// outcome was handed out, else `None`.
    #[getter]
    #[allow(clippy::type_complexity)]
    fn result(&self) -> Option<(&'static str, Vec<String>, Vec<String>, Vec<String>, Vec<String>, u32)> {
        lock(&self.report).as_ref().map(|r| {
            (
                end_name(r.outcome.end),
                r.delivered.clone(),
                r.invalid.clone(),
                r.soft_bounced.clone(),
                r.pending.clone(),
                r.outcome.polls,
            )
        })
    }

    fn __repr__(&self) -> String {
        format!("NativeWatch(closed={})", self.cancel.is_cancelled())
    }
}

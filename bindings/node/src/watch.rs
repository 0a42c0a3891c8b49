//! `client.watch()` from Node: `NativeWatch`, the client's [`Watcher`]
//! advanced on the libuv pool.
//!
//! Each `step()` runs there without sleeping: it hands the watcher's due
//! events over (running a poll when one is due) and resolves with them and,
//! when nothing is due yet, how long until something is. The JS wrapper
//! sleeps on a timer, so no pool thread waits between polls and the event
//! loop never blocks. `cancel()` cancels a poll in progress (the pending
//! `step()` then resolves as ended); garbage collection cancels too.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use sendcloud_status::core::query::parse_date;
use sendcloud_status::core::watch::{Transition, WatchEnd};
use sendcloud_status::{Client, Language, WatchCancelHandle, WatchEvent, WatchReport, WatchStep, Watcher};

use sendcloud_status::settings::{self, DurationBounds, TimeUnit};

use crate::options::CoreResult;
use crate::task::{Failure, Job};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Settings of `client.watch(ids, options)`; unset ones are the driver's
/// defaults.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default, Clone)]
pub struct WatchOptions {
    /// Also follow every email to this address sent in the last 3 days.
    pub email: Option<String>,
    /// Least time between two polls, ms (default 600000; at least 1000).
    pub interval_ms: Option<f64>,
    /// A soft bounce unchanged this long is final, ms (default 3600000).
    pub soft_bounce_grace_ms: Option<f64>,
    /// The watch's deadline, ms (default 7200000); `Infinity`: none.
    pub timeout_ms: Option<f64>,
    /// The server day (`yyyy-MM-dd`) that anchors the 3-day windows.
    pub today: Option<String>,
    /// Seed of the jitter between polls.
    pub jitter_seed: Option<f64>,
}

/// Milliseconds as a duration within the core's `bounds`; `field` is the core's name.
fn millis(bounds: DurationBounds, field: &'static str, ms: f64) -> CoreResult<Duration> {
    bounds.from_number(field, ms, TimeUnit::Millis)
}

impl WatchOptions {
    /// The watcher these options and `email_ids` describe (checked; nothing sent).
    pub(crate) fn start(&self, client: &Client, email_ids: Vec<String>) -> CoreResult<Watcher> {
        let mut request = client.watch(email_ids);
        if let Some(e) = &self.email {
            request = request.email(e.as_str());
        }
        if let Some(ms) = self.interval_ms {
            request = request.interval(millis(settings::DELAY, "interval", ms)?);
        }
        if let Some(ms) = self.soft_bounce_grace_ms {
            request = request.soft_bounce_grace(millis(settings::DELAY, "soft_bounce_grace", ms)?);
        }
        if let Some(ms) = self.timeout_ms {
            let deadline = if ms == f64::INFINITY { None } else { Some(millis(settings::TIMEOUT, "timeout", ms)?) };
            request = request.timeout(deadline);
        }
        if let Some(day) = &self.today {
            request = request.today(parse_date("today", day)?);
        }
        if let Some(seed) = self.jitter_seed {
            request = request.jitter_seed(crate::options::bounded("jitter_seed", seed, settings::JITTER_SEED)? as u64);
        }
        request.start()
    }
}

/// An email that changed state, as a poll saw it.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct WatchTransition {
    /// The email.
    pub email_id: String,
    /// Its recipient, once known.
    pub recipient: Option<String>,
    /// The state before; `null` at the first sighting.
    pub from: Option<String>,
    /// The sub-status before.
    pub from_sub_status: Option<u32>,
    /// The state now.
    pub to: String,
    /// The sub-status now.
    pub sub_status: Option<u32>,
    /// The documented English text of `subStatus`.
    pub sub_status_description: Option<String>,
    /// When the server says it changed (`modifiedTime`), if it said.
    pub changed_at: Option<DateTime<FixedOffset>>,
    /// When the poll that saw it started.
    pub observed_at: DateTime<FixedOffset>,
}

/// A server-local time with the server's offset.
fn aware(offset: FixedOffset, t: NaiveDateTime) -> DateTime<FixedOffset> {
    offset.from_local_datetime(&t).single().unwrap_or_else(|| offset.from_utc_datetime(&t))
}

impl WatchTransition {
    fn new(t: Transition, offset: FixedOffset) -> Self {
        WatchTransition {
            from: t.from.map(|c| c.name().to_owned()),
            from_sub_status: t.from_sub_status.map(|s| u32::from(s.code())),
            to: t.to.name().to_owned(),
            sub_status: t.sub_status.map(|s| u32::from(s.code())),
            sub_status_description: t.sub_status.map(|s| s.describe(Language::English).to_owned()),
            changed_at: t.changed_at,
            observed_at: aware(offset, t.observed_at),
            email_id: t.email_id,
            recipient: t.recipient,
        }
    }
}

/// How a watch ended, by email id.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct WatchResult {
    /// `all_delivered`, `failed` or `deadline_passed`.
    pub ended_by: String,
    /// Emails delivered.
    pub delivered: Vec<String>,
    /// Emails invalid (permanent failures).
    pub invalid: Vec<String>,
    /// Soft bounces unchanged for the grace period.
    pub soft_bounced: Vec<String>,
    /// `invalid` and `softBounced`.
    pub failed: Vec<String>,
    /// Emails not final at the end.
    pub pending: Vec<String>,
    /// Polls completed.
    pub polls: u32,
}

impl From<&WatchReport> for WatchResult {
    fn from(r: &WatchReport) -> Self {
        let ended_by = match r.outcome.end {
            WatchEnd::AllDelivered => "all_delivered",
            WatchEnd::Failed => "failed",
            WatchEnd::DeadlinePassed => "deadline_passed",
            _ => "unknown",
        };
        WatchResult {
            ended_by: ended_by.to_owned(),
            delivered: r.delivered.clone(),
            invalid: r.invalid.clone(),
            soft_bounced: r.soft_bounced.clone(),
            failed: r.invalid.iter().chain(&r.soft_bounced).cloned().collect(),
            pending: r.pending.clone(),
            polls: r.outcome.polls,
        }
    }
}

/// What one `step()` brought.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Clone, Default)]
pub struct WatchBatch {
    /// Notices to give the user (before the first poll).
    pub notices: Vec<String>,
    /// Transitions seen, in order.
    pub transitions: Vec<WatchTransition>,
    /// The watch is over (its result is set, or it was cancelled).
    pub ended: bool,
    /// Nothing is due before this many milliseconds (`null` when ended).
    pub wait_ms: Option<f64>,
}

/// One watch. See the module doc.
#[napi]
pub struct NativeWatch {
    watcher: Arc<Mutex<Watcher>>,
    /// Cancels without the `watcher` lock, which a `step()` may hold.
    cancel: WatchCancelHandle,
    report: Arc<Mutex<Option<WatchReport>>>,
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
        NativeWatch { watcher: Arc::new(Mutex::new(watcher)), cancel, report: Arc::default(), offset }
    }
}

impl Drop for NativeWatch {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[napi]
impl NativeWatch {
    /// The events due now (a poll runs when one is due), on the libuv pool.
    /// Rejects with the error that ended the watch.
    #[napi(ts_return_type = "Promise<WatchBatch>")]
    pub fn step(&self) -> AsyncTask<Job<WatchBatch>> {
        let (watcher, report, offset) = (self.watcher.clone(), self.report.clone(), self.offset);
        Job::spawn(move || {
            let mut watcher = lock(&watcher);
            let mut batch = WatchBatch::default();
            loop {
                match watcher.step(Duration::ZERO).map_err(Failure::Core)? {
                    WatchStep::Event(WatchEvent::Notice(n)) => batch.notices.push(n.to_string()),
                    WatchStep::Event(WatchEvent::Transition(t)) => {
                        batch.transitions.push(WatchTransition::new(t, offset));
                    }
                    WatchStep::Event(WatchEvent::Done(_)) => *lock(&report) = watcher.report().cloned(),
                    // A failed poll is tried again at the next one (the error comes if it cannot be).
                    WatchStep::Event(_) => {}
                    WatchStep::Wait(left) => {
                        batch.wait_ms = Some(left.as_secs_f64() * 1000.0);
                        return Ok(batch);
                    }
                    // Ended.
                    _ => {
                        batch.ended = true;
                        return Ok(batch);
                    }
                }
            }
        })
    }

    /// Stops the watch: a poll in progress is cancelled (its `step()`
    /// resolves as ended), later steps end at once. Never blocks.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether `cancel()` was called (or the watch collected).
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// How the watch ended, once a step handed out its end; else `null`.
    #[napi(getter)]
    pub fn result(&self) -> Option<WatchResult> {
        lock(&self.report).as_ref().map(WatchResult::from)
    }
}

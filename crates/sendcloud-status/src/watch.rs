//! The watch driver: one loop around the core's
//! [`Watch`](sendcloud_status_core::watch::Watch) machine. Each poll's
//! queries run as exports of the client, one after the other; waits between
//! polls happen in slices on a condition variable that a cancel wakes.
//!
//! ```text
//!   Watcher::step(max_wait) ──► Watch::next(server now)
//!     Notice ──────────────────────────────► Event(Notice)
//!     Poll ──► an export per query ──┬─ records ──► poll_done ──► Event(Polled), Event(Transition)…
//!                                    └─ error ───► poll_failed ─► Event(PollFailed)
//!     WaitUntil(t) ──► sleep ≤ max_wait ──► again, or Wait(time left)
//!     Done ──► Event(Done) ──► Ended
//!     Err ──► the error ──► Ended
//!
//!   cancel (WatchCancelHandle, close, drop): the export in progress is
//!   cancelled, a sleep ends; the next step is Ended, whatever it was doing.
//! ```
//!
//! A blocking caller iterates the [`Watcher`]; a caller with its own event
//! loop calls [`Watcher::step`] with no wait and sleeps on its own timer.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{NaiveDate, NaiveDateTime};
use sendcloud_status_core::watch::{
    Transition, Watch, WatchAction, WatchConfig, WatchEnd, WatchNotice, WatchOutcome, WatchedEmail,
};
use sendcloud_status_core::{Category, Error, Query, Record, Result};

use crate::client::Client;
use crate::driver::CancelHandle;

/// The deadline of a watch unless [`WatchRequest::timeout`] says otherwise:
/// an id that never shows up would otherwise be polled forever.
pub const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// The longest sleep of a blocking [`Watcher`] before it looks at the
/// clock again (a cancel wakes it at once anyway).
const SLICE: Duration = Duration::from_secs(1);

impl Client {
    /// Follows `email_ids` until each is final (delivered, invalid, or a
    /// soft bounce unchanged for the grace period), or the deadline passes.
    /// Add or use only an address with [`WatchRequest::email`]; start with
    /// [`WatchRequest::start`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sendcloud_status::{Client, WatchEvent};
    /// let client = Client::from_env()?;
    /// let watcher = client.watch(["1716170000000_1_2.sc-1-inbound0$someone@example.com"])
    ///     .timeout(Some(Duration::from_secs(1800)))
    ///     .start()?;
    /// for event in watcher {
    ///     match event? {
    ///         WatchEvent::Transition(t) => println!("{} {:?} → {}", t.email_id, t.from, t.to),
    ///         WatchEvent::Done(outcome) => println!("{:?}", outcome.end),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok::<(), sendcloud_status::Error>(())
    /// ```
    pub fn watch<I, S>(&self, email_ids: I) -> WatchRequest<'_>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WatchRequest {
            client: self,
            email_ids: email_ids.into_iter().map(Into::into).collect(),
            email: None,
            interval: sendcloud_status_core::watch::DEFAULT_INTERVAL,
            soft_bounce_grace: sendcloud_status_core::watch::DEFAULT_SOFT_BOUNCE_GRACE,
            timeout: Some(DEFAULT_WATCH_TIMEOUT),
            jitter_seed: None,
            today: None,
            report_polls: false,
        }
    }
}

/// Settings of one watch; finish with [`WatchRequest::start`].
#[derive(Debug)]
#[must_use = "a watch request does nothing until .start()"]
pub struct WatchRequest<'a> {
    client: &'a Client,
    email_ids: Vec<String>,
    email: Option<String>,
    interval: Duration,
    soft_bounce_grace: Duration,
    timeout: Option<Duration>,
    jitter_seed: Option<u64>,
    today: Option<NaiveDate>,
    report_polls: bool,
}

impl WatchRequest<'_> {
    /// Also follow every email to this address sent in the last 3 days
    /// (found as they appear).
    pub fn email(mut self, address: impl Into<String>) -> Self {
        self.email = Some(address.into());
        self
    }

    /// Least time between the starts of two polls (default 10 minutes, the
    /// server's cache period; at least 1 s), plus up to a tenth of it as
    /// jitter. Below 10 minutes against a host that is not loopback, the
    /// first event is a [`WatchNotice`]: answers may be cached.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// A soft bounce unchanged this long after its `modifiedTime` counts as
    /// failed (default 1 hour): the vendor may retry it until then.
    pub fn soft_bounce_grace(mut self, grace: Duration) -> Self {
        self.soft_bounce_grace = grace;
        self
    }

    /// Stop this long after the start, final or not (default
    /// [`DEFAULT_WATCH_TIMEOUT`], 2 hours; `None`: never). Each request
    /// keeps the client's own timeout.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Seed of the jitter between polls (default: from the clock).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Anchor the 3-day windows (an address, ids without a time prefix) on
    /// this server-local day instead of today.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Also hand out every poll's records ([`WatchEvent::Polled`]), for
    /// example to keep them in an archive.
    pub fn report_polls(mut self, on: bool) -> Self {
        self.report_polls = on;
        self
    }

    /// Checks the ids, the address and the settings (a
    /// [`Validation`](crate::ErrorKind::Validation) error naming
    /// `email_ids`, `email`, `interval`, `soft_bounce_grace` or `timeout`;
    /// durations are at most a day, the timeout more than zero) and returns the
    /// watcher. Nothing is sent until it is advanced.
    pub fn start(self) -> Result<Watcher> {
        // The bounds every language shares (the core's watch adds its own: an interval of at least 1 s).
        if let Some(t) = self.timeout {
            crate::settings::TIMEOUT.check("timeout", t)?;
        }
        crate::settings::DELAY.check("interval", self.interval)?;
        crate::settings::DELAY.check("soft_bounce_grace", self.soft_bounce_grace)?;
        let seed = self.jitter_seed.unwrap_or_else(clock_seed);
        let config = WatchConfig::new(self.client.endpoint())
            .interval(self.interval)
            .soft_bounce_grace(self.soft_bounce_grace)
            .timeout(self.timeout)
            .server_offset(self.client.server_utc_offset())
            .jitter_seed(seed);
        let watch = Watch::new(config, self.email_ids, self.email.as_deref(), self.client.server_now())?;
        Ok(Watcher {
            client: self.client.clone(),
            watch,
            today: self.today,
            report_polls: self.report_polls,
            queue: VecDeque::new(),
            ended: false,
            report: None,
            cancel: Arc::new(Cancel::default()),
        })
    }
}

/// A seed that differs between runs and between processes.
fn clock_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id())
}

/// What a watch tells its caller.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WatchEvent {
    /// Something to tell the user once (before the first poll).
    Notice(WatchNotice),
    /// The records of a poll that just completed, before its transitions
    /// (only with [`WatchRequest::report_polls`]).
    Polled {
        /// Every record the poll's queries returned.
        records: Vec<Record>,
        /// When the poll completed, server-local.
        at: NaiveDateTime,
    },
    /// An email changed state.
    Transition(Transition),
    /// A poll failed after the client's retries. The watch tries again at
    /// the next poll, unless another try cannot help (authentication,
    /// validation, quota) or too many failed in a row: then the next item
    /// is the error.
    PollFailed(Error),
    /// The watch is over; the last event. [`Watcher::report`] has the ids.
    Done(WatchOutcome),
}

/// What [`Watcher::step`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum WatchStep {
    /// An event.
    Event(WatchEvent),
    /// Nothing before this much time from now: call again then.
    Wait(Duration),
    /// The watch is over (its outcome was handed out, it failed, or it was
    /// cancelled).
    Ended,
}

/// The ids of a finished watch, by how they ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchReport {
    /// How it ended, with counts.
    pub outcome: WatchOutcome,
    /// Emails delivered.
    pub delivered: Vec<String>,
    /// Emails invalid (permanent failures).
    pub invalid: Vec<String>,
    /// Emails whose soft bounce outlasted the grace period.
    pub soft_bounced: Vec<String>,
    /// Emails not final at the end. (An address with no email seen counts
    /// in `outcome.pending` but has no id here.)
    pub pending: Vec<String>,
}

impl WatchReport {
    fn new(outcome: WatchOutcome, emails: Vec<WatchedEmail>) -> Self {
        let mut report = WatchReport {
            outcome,
            delivered: Vec::new(),
            invalid: Vec::new(),
            soft_bounced: Vec::new(),
            pending: Vec::new(),
        };
        for e in emails {
            let list = match e.category {
                Some(Category::Delivered) => &mut report.delivered,
                Some(Category::Invalid) => &mut report.invalid,
                Some(Category::SoftBounce) if e.is_final => &mut report.soft_bounced,
                _ => &mut report.pending,
            };
            list.push(e.email_id);
        }
        report
    }

    /// Whether every email was delivered.
    pub fn all_delivered(&self) -> bool {
        self.outcome.end == WatchEnd::AllDelivered
    }
}

/// A watch in progress: an iterator of [`WatchEvent`]s that ends after
/// [`WatchEvent::Done`], after an error, or once cancelled. Iterating blocks
/// (polls run on the calling thread; waits are slept); see
/// [`Watcher::step`] for a caller with an event loop of its own.
///
/// Dropping it, [`Watcher::close`] or a [`WatchCancelHandle`] stop it.
pub struct Watcher {
    client: Client,
    watch: Watch,
    today: Option<NaiveDate>,
    report_polls: bool,
    /// Events of the last poll not handed out yet.
    queue: VecDeque<WatchEvent>,
    ended: bool,
    report: Option<WatchReport>,
    cancel: Arc<Cancel>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("polls", &self.watch.polls())
            .field("deadline", &self.watch.deadline())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// The cancel flag and the export in progress, behind one lock, with the
/// condition variable a sleeping watcher waits on.
#[derive(Default)]
struct Cancel {
    state: Mutex<CancelState>,
    wake: Condvar,
}

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    /// The export a poll is running, to cancel with the watch.
    export: Option<CancelHandle>,
}

impl Cancel {
    fn lock(&self) -> MutexGuard<'_, CancelState> {
        // Nothing panics while holding it; a poisoned lock still holds a valid flag.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cancel(&self) {
        let mut state = self.lock();
        state.cancelled = true;
        if let Some(export) = state.export.take() {
            export.cancel();
        }
        self.wake.notify_all();
    }

    fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// Sleeps for `d` or until cancelled.
    fn sleep(&self, d: Duration) {
        let state = self.lock();
        let _ = self.wake.wait_timeout_while(state, d, |s| !s.cancelled);
    }
}

/// Stops a [`Watcher`] from another thread: a poll in progress is cancelled
/// (its requests end as for [`CancelHandle::cancel`]), a wait ends at once,
/// and the watcher ends without an outcome. Cheap to clone; idempotent.
#[derive(Clone)]
pub struct WatchCancelHandle {
    cancel: Arc<Cancel>,
}

impl std::fmt::Debug for WatchCancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchCancelHandle").field("cancelled", &self.is_cancelled()).finish()
    }
}

impl WatchCancelHandle {
    /// Stops the watch.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the watch was cancelled (or closed, or dropped).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// How a poll ended.
enum PollResult {
    Records(Vec<Record>),
    Failed(Error),
    Cancelled,
}

impl Watcher {
    /// A handle that stops this watch from another thread.
    pub fn cancel_handle(&self) -> WatchCancelHandle {
        WatchCancelHandle { cancel: self.cancel.clone() }
    }

    /// Stops the watch here; iteration ends. Dropping does the same.
    pub fn close(&mut self) {
        self.cancel.cancel();
        self.ended = true;
        self.queue.clear();
    }

    /// Polls completed so far.
    pub fn polls(&self) -> u32 {
        self.watch.polls()
    }

    /// Every email followed and its state now: the ones given, then the
    /// ones found through the address.
    pub fn emails(&self) -> Vec<WatchedEmail> {
        self.watch.emails(self.client.server_now())
    }

    /// The ids by how they ended, once [`WatchEvent::Done`] was handed out
    /// (`None` before, and for a watch that failed or was cancelled).
    pub fn report(&self) -> Option<&WatchReport> {
        self.report.as_ref()
    }

    /// Advances the watch: returns the next event, or sleeps up to
    /// `max_wait` for one to be due and returns [`WatchStep::Wait`] with the
    /// time still left. A poll runs on the calling thread, whatever
    /// `max_wait`. With `Duration::ZERO` it never sleeps: the caller waits
    /// on a timer of its own and calls again.
    pub fn step(&mut self, max_wait: Duration) -> Result<WatchStep> {
        let sleep_until = Instant::now().checked_add(max_wait);
        loop {
            if self.cancel.is_cancelled() {
                self.ended = true;
                self.queue.clear();
            }
            if let Some(event) = self.queue.pop_front() {
                return Ok(WatchStep::Event(event));
            }
            if self.ended {
                return Ok(WatchStep::Ended);
            }
            let now = self.client.server_now();
            let action = self.watch.next(now).inspect_err(|_| self.ended = true)?;
            match action {
                WatchAction::Notice(notice) => return Ok(WatchStep::Event(WatchEvent::Notice(notice))),
                WatchAction::Poll(poll) => match self.run_poll(poll.queries) {
                    PollResult::Records(records) => {
                        let at = self.client.server_now();
                        let transitions = self.watch.poll_done(poll.id, &records, at);
                        if self.report_polls {
                            self.queue.push_back(WatchEvent::Polled { records, at });
                        }
                        self.queue.extend(transitions.into_iter().map(WatchEvent::Transition));
                    }
                    PollResult::Failed(e) => {
                        self.watch.poll_failed(poll.id, e.clone(), self.client.server_now());
                        return Ok(WatchStep::Event(WatchEvent::PollFailed(e)));
                    }
                    PollResult::Cancelled => {}
                },
                WatchAction::WaitUntil(t) => {
                    let left = (t - self.client.server_now()).to_std().unwrap_or(Duration::ZERO);
                    if left.is_zero() {
                        continue;
                    }
                    let allowed = sleep_until.map_or(left, |u| u.saturating_duration_since(Instant::now()));
                    if allowed.is_zero() {
                        return Ok(WatchStep::Wait(left));
                    }
                    self.cancel.sleep(left.min(allowed));
                }
                WatchAction::Done(outcome) => {
                    self.ended = true;
                    self.report = Some(WatchReport::new(outcome.clone(), self.watch.emails(now)));
                    return Ok(WatchStep::Event(WatchEvent::Done(outcome)));
                }
                other => {
                    // `AwaitPoll` cannot happen: every poll is reported before the next `next()`.
                    self.ended = true;
                    return Err(Error::internal(format!("unexpected watch action {other:?}")));
                }
            }
        }
    }

    /// Runs a poll's queries, one export each, collecting every record.
    fn run_poll(&mut self, queries: Vec<Query>) -> PollResult {
        let mut records = Vec::new();
        for query in queries {
            let export = match self.today {
                Some(day) => self.client.export(query).today(day),
                None => self.client.export(query),
            };
            let mut rows = match export.records() {
                Ok(rows) => rows,
                Err(e) => return PollResult::Failed(e),
            };
            {
                let mut state = self.cancel.lock();
                if state.cancelled {
                    return PollResult::Cancelled;
                }
                state.export = Some(rows.cancel_handle());
            }
            let failure = rows.by_ref().find_map(|r| match r {
                Ok(r) => {
                    records.push(r);
                    None
                }
                Err(e) => Some(e),
            });
            let cancelled = {
                let mut state = self.cancel.lock();
                state.export = None;
                state.cancelled
            };
            if cancelled {
                return PollResult::Cancelled;
            }
            if let Some(e) = failure {
                return PollResult::Failed(e);
            }
        }
        PollResult::Records(records)
    }
}

impl Iterator for Watcher {
    type Item = Result<WatchEvent>;

    fn next(&mut self) -> Option<Result<WatchEvent>> {
        loop {
            match self.step(SLICE) {
                Ok(WatchStep::Event(event)) => return Some(Ok(event)),
                Ok(WatchStep::Wait(_)) => continue,
                Ok(WatchStep::Ended) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

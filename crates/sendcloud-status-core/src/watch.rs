//! The watch machine: follow emails until each is final, polling the API no
//! more often than its cache makes useful.
//!
//! A driver calls [`Watch::next`] with the server-local time now and does
//! what the [`WatchAction`] says: tell the user something once, run a poll
//! (its [`Query`]s, one export each — the export machine brings encoding,
//! decoding, retries and the rate limiter — then hand every record back
//! with [`Watch::poll_done`], or the error with [`Watch::poll_failed`]),
//! sleep until an instant, or stop. It never reads a clock, sleeps or does
//! I/O; the jitter comes from a seed.
//!
//! # States
//!
//! Each email:
//!
//! ```text
//!                      first sighting
//!   unseen ───────────────────────────────┐
//!     │                                   ▼
//!     │  (not returned yet:        ┌── sending / unknown ──┐
//!     │   keep polling)            │                       │
//!     ▼                            ▼                       ▼
//!   delivered (final) ◄──── soft bounce ──────────► invalid (final)
//!                             │   ▲ bounced again: the grace restarts
//!                             │   │
//!                             └───┘
//!                             │ no change for `soft_bounce_grace` after its
//!                             ▼ modifiedTime (the vendor may still retry)
//!                       soft bounce (final)
//! ```
//!
//! An answer never moves an email back: a row older than the state held
//! (an earlier `modifiedTime`, or "sending" again after a final state — an
//! answer from the server's cache) is ignored.
//!
//! The machine:
//!
//! ```text
//!   new ──► [Notice once: interval below the server's 10-minute cache on a
//!     │      non-loopback host — answers may be cached]
//!     ▼
//!   poll due ──► Poll(queries) ──► AwaitPoll ──► poll_done: transitions;
//!     ▲                                          next poll ≥ this one's start
//!     │                                          + interval + jitter
//!     └── WaitUntil(min(next poll, deadline, a soft bounce's grace end)) ◄┘
//!
//!   every email final ─────────► Done(AllDelivered | Failed)
//!   deadline passed ───────────► Done(DeadlinePassed | Failed)
//!   poll_failed: not retryable, or max_failed_polls in a row ──► next() → Err
//! ```
//!
//! # Requests
//!
//! Pending emails only (final ones are no longer asked for), 20 ids per
//! request ([`WatchConfig::ids_per_request`]). SendCloud email ids start
//! with the send request's Unix time in milliseconds
//! (`1425758592214_4576_…`): that gives the server day to search
//! (both days when the time is within a minute of midnight), and ids whose
//! days fit in one window of the endpoint (3 days, 30 on `sendcloud-cn`)
//! share a request. Once a row was seen, its `requestTime` day is used. An
//! id without that prefix is searched over the last
//! [`fallback_days`](WatchConfig::fallback_days) (3) days, as is an
//! address: every email to it in that window is followed.
//!
//! Polls start at least [`interval`](WatchConfig::interval) apart (default
//! 10 minutes: the server answers the same query from its cache for 10
//! minutes, so asking sooner shows nothing new), plus a jitter of up to a
//! tenth of it. The interval may go down to 1 s, for sandboxes and tests.
//!
//! # Example: a virtual clock
//!
//! ```
//! use std::time::Duration;
//! use sendcloud_status_core::chrono::NaiveDateTime;
//! use sendcloud_status_core::watch::{Watch, WatchAction, WatchConfig, WatchEnd};
//! use sendcloud_status_core::{Category, Endpoint, Record};
//!
//! let id = "1716170000000_1_2.sc-1-inbound0$a@b.com"; // 2024-05-20 09:53:20 at +08:00
//! let config = WatchConfig::new(&Endpoint::default()).jitter_seed(7);
//! let mut now: NaiveDateTime = "2024-05-20T09:54:00".parse().unwrap();
//! let mut watch = Watch::new(config, [id], None, now).unwrap();
//!
//! let row = |category| {
//!     let mut r = Record::default();
//!     r.email_id = Some(id.to_owned());
//!     r.category = category;
//!     r
//! };
//! let mut seen = Vec::new();
//! let outcome = loop {
//!     match watch.next(now).unwrap() {
//!         WatchAction::Poll(poll) => {
//!             // One export per query; here a fake server: sending, then delivered.
//!             assert_eq!(poll.queries[0].email_ids(), [id]);
//!             let category = if seen.is_empty() { Category::Sending } else { Category::Delivered };
//!             for t in watch.poll_done(poll.id, &[row(category)], now) {
//!                 seen.push((t.from, t.to));
//!             }
//!         }
//!         WatchAction::WaitUntil(t) => now = t,
//!         WatchAction::Done(outcome) => break outcome,
//!         _ => unreachable!(),
//!     }
//! };
//! assert_eq!(outcome.end, WatchEnd::AllDelivered);
//! assert_eq!(seen, [(None, Category::Sending), (Some(Category::Sending), Category::Delivered)]);
//! assert!(now >= "2024-05-20T10:04:00".parse().unwrap(), "ten minutes between polls");
//! ```

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind, Result, ValidationReason};
use crate::export::DEFAULT_EMAIL_ID_CHUNK;
use crate::query::Query;
use crate::record::Record;
use crate::retry::Jitter;
use crate::status::{Category, SubStatus};

/// The server's cache period: the same query within it gets the same answer.
pub const SERVER_CACHE_PERIOD: Duration = Duration::from_secs(600);
/// Default spacing of polls: the server's cache period.
pub const DEFAULT_INTERVAL: Duration = SERVER_CACHE_PERIOD;
/// The shortest interval accepted (sandboxes and tests).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Default time a soft bounce may still turn into something else.
pub const DEFAULT_SOFT_BOUNCE_GRACE: Duration = Duration::from_secs(3600);
/// Days searched for an id without a time prefix, and for an address.
pub const DEFAULT_FALLBACK_DAYS: u32 = 3;
/// Failed polls in a row (each after the export's own retries) before the
/// watch gives up.
pub const DEFAULT_MAX_FAILED_POLLS: u32 = 3;

/// An id's time this close to a midnight: both days are searched.
const MIDNIGHT_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
/// Plausible id times: from 2001-09-09 (10¹² ms) to 2286 (10¹³ ms).
const ID_MS: std::ops::Range<i64> = 1_000_000_000_000..10_000_000_000_000;

/// The watch's settings. [`WatchConfig::new`] holds the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchConfig {
    /// Least time between the starts of two polls (at least [`MIN_INTERVAL`]).
    pub interval: Duration,
    /// Up to this much is added to each interval (drawn from the seed).
    pub max_jitter: Duration,
    /// A soft bounce unchanged this long after its `modifiedTime` is final.
    pub soft_bounce_grace: Duration,
    /// Stop this long after the start, final or not (`None`: never).
    pub timeout: Option<Duration>,
    /// Email ids per request.
    pub ids_per_request: usize,
    /// The endpoint's longest window, in days.
    pub max_window_days: u32,
    /// Days searched for an id without a time prefix, and for an address.
    pub fallback_days: u32,
    /// The server's UTC offset (id times are read on its calendar).
    pub server_offset: FixedOffset,
    /// The endpoint is a loopback host (a sandbox): no cache warning.
    pub loopback: bool,
    /// Seed of the jitter.
    pub jitter_seed: u64,
    /// Failed polls in a row before giving up.
    pub max_failed_polls: u32,
}

impl WatchConfig {
    /// Defaults for `endpoint`: a 10-minute interval with up to 1 minute of
    /// jitter, a 1-hour soft-bounce grace, no timeout, 20 ids per request.
    pub fn new(endpoint: &Endpoint) -> WatchConfig {
        WatchConfig {
            interval: DEFAULT_INTERVAL,
            max_jitter: DEFAULT_INTERVAL / 10,
            soft_bounce_grace: DEFAULT_SOFT_BOUNCE_GRACE,
            timeout: None,
            ids_per_request: DEFAULT_EMAIL_ID_CHUNK,
            max_window_days: endpoint.max_window_days(),
            fallback_days: DEFAULT_FALLBACK_DAYS,
            server_offset: crate::decode::Decoder::default().offset(),
            loopback: endpoint.is_loopback(),
            jitter_seed: 0,
            max_failed_polls: DEFAULT_MAX_FAILED_POLLS,
        }
    }

    /// Sets the [`interval`](Self::interval), and the jitter to a tenth of it.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self.max_jitter = interval / 10;
        self
    }
    /// Sets [`max_jitter`](Self::max_jitter).
    pub fn max_jitter(mut self, jitter: Duration) -> Self {
        self.max_jitter = jitter;
        self
    }
    /// Sets [`soft_bounce_grace`](Self::soft_bounce_grace).
    pub fn soft_bounce_grace(mut self, grace: Duration) -> Self {
        self.soft_bounce_grace = grace;
        self
    }
    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
    /// Sets [`ids_per_request`](Self::ids_per_request).
    pub fn ids_per_request(mut self, n: usize) -> Self {
        self.ids_per_request = n;
        self
    }
    /// Sets [`server_offset`](Self::server_offset).
    pub fn server_offset(mut self, offset: FixedOffset) -> Self {
        self.server_offset = offset;
        self
    }
    /// Sets [`jitter_seed`](Self::jitter_seed).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }
    /// Sets [`max_failed_polls`](Self::max_failed_polls).
    pub fn max_failed_polls(mut self, n: u32) -> Self {
        self.max_failed_polls = n;
        self
    }
}

/// Identifies a poll, to match its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PollId(u32);

/// One poll: run every query (an export each) and hand all their records to
/// [`Watch::poll_done`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Poll {
    /// Pass it back with the results.
    pub id: PollId,
    /// The requests: ids grouped by window, and the address.
    pub queries: Vec<Query>,
}

/// Something to tell the user once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchNotice {
    /// The interval is below the server's 10-minute cache period and the
    /// host is not a loopback one: polls may get the same cached answer.
    CachedAnswers {
        /// The interval in force.
        interval: Duration,
    },
}

impl std::fmt::Display for WatchNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchNotice::CachedAnswers { interval } => write!(
                f,
                "polling every {} s, but the server answers the same query from its cache for 10 minutes: \
                 changes may show only that much later",
                interval.as_secs_f64()
            ),
        }
    }
}

/// What the driver should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchAction {
    /// Tell the user (once).
    Notice(WatchNotice),
    /// Run this poll now.
    Poll(Poll),
    /// Nothing to do before this server-local time.
    WaitUntil(NaiveDateTime),
    /// A poll is out: report it first.
    AwaitPoll,
    /// The watch is over.
    Done(WatchOutcome),
}

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WatchEnd {
    /// Every email was delivered.
    AllDelivered,
    /// At least one email failed: invalid (permanent), or a soft bounce
    /// unchanged for the grace period. Others may still have been pending
    /// at the deadline.
    Failed,
    /// The deadline passed with emails still pending (none failed).
    DeadlinePassed,
}

/// The end of a watch, with counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOutcome {
    /// How it ended.
    pub end: WatchEnd,
    /// Emails delivered.
    pub delivered: usize,
    /// Emails invalid.
    pub invalid: usize,
    /// Emails whose soft bounce outlasted the grace period.
    pub soft_bounced: usize,
    /// Emails not final (unseen, sending, unknown, a soft bounce within its
    /// grace); an address with no email seen counts as one.
    pub pending: usize,
    /// Polls completed.
    pub polls: u32,
}

/// A change of an email's state, as a poll saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transition {
    /// The email.
    pub email_id: String,
    /// Its recipient, when known.
    pub recipient: Option<String>,
    /// The state before (`None`: the first sighting).
    pub from: Option<Category>,
    /// The sub-status before.
    pub from_sub_status: Option<SubStatus>,
    /// The state now.
    pub to: Category,
    /// The sub-status now.
    pub sub_status: Option<SubStatus>,
    /// When the server says it changed (`modifiedTime`).
    pub changed_at: Option<DateTime<FixedOffset>>,
    /// When the poll that saw it started (server-local).
    pub observed_at: NaiveDateTime,
}

/// One followed email, as [`Watch::emails`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchedEmail {
    /// The id.
    pub email_id: String,
    /// The recipient, when seen.
    pub recipient: Option<String>,
    /// The state (`None`: not seen yet).
    pub category: Option<Category>,
    /// The sub-status.
    pub sub_status: Option<SubStatus>,
    /// Whether it is final now.
    pub is_final: bool,
    /// Found through the address rather than given.
    pub via_address: bool,
}

#[derive(Debug, Clone)]
struct State {
    category: Category,
    sub_status: Option<SubStatus>,
    modified: Option<NaiveDateTime>,
    /// When the current soft bounce happened (its grace counts from here).
    soft_since: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
struct Tracked {
    id: String,
    /// The time the id starts with, server-local.
    id_time: Option<NaiveDateTime>,
    /// The `requestTime` day of a row seen.
    request_day: Option<NaiveDate>,
    recipient: Option<String>,
    via_address: bool,
    state: Option<State>,
}

/// Follows emails until they are final. See the module doc.
#[derive(Debug)]
pub struct Watch {
    config: WatchConfig,
    email: Option<String>,
    emails: Vec<Tracked>,
    index: HashMap<String, usize>,
    deadline: Option<NaiveDateTime>,
    next_poll: NaiveDateTime,
    in_flight: Option<(PollId, NaiveDateTime)>,
    next_id: u32,
    polls: u32,
    failed_in_a_row: u32,
    notice_given: bool,
    jitter: Jitter,
    failed: Option<Error>,
    done: Option<WatchOutcome>,
}

impl Watch {
    /// Follows `email_ids` and every email to `email` (at least one of
    /// them), from the server-local time `now`. Checks the ids, the
    /// address and the settings; the first poll is due at once.
    pub fn new<I, S>(config: WatchConfig, email_ids: I, email: Option<&str>, now: NaiveDateTime) -> Result<Watch>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = email_ids.into_iter().map(Into::into).collect();
        if ids.is_empty() && email.is_none() {
            return Err(Error::invalid_value(
                "email_ids",
                ValidationReason::Missing,
                "give email ids, an address, or both",
            ));
        }
        if config.interval < MIN_INTERVAL {
            return Err(Error::invalid_value("interval", ValidationReason::OutOfRange, "must be at least 1 s"));
        }
        if config.ids_per_request == 0 || config.max_window_days == 0 || config.fallback_days == 0 {
            return Err(Error::validation("ids_per_request", "ids per request and window days must be at least 1"));
        }
        // The same checks as a query: no empty id, no ';', a real address.
        let mut check = Query::builder().days(1);
        if !ids.is_empty() {
            check = check.email_ids(ids.clone());
        }
        if let Some(e) = email {
            check = check.email(e);
        }
        let checked = check.build()?;
        let deadline = match config.timeout {
            Some(t) => Some(
                chrono::TimeDelta::from_std(t)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or_else(|| Error::invalid_value("timeout", ValidationReason::OutOfRange, "is too long"))?,
            ),
            None => None,
        };
        let mut watch = Watch {
            jitter: Jitter::new(config.jitter_seed),
            email: checked.email().map(str::to_owned),
            emails: Vec::new(),
            index: HashMap::new(),
            deadline,
            next_poll: now,
            in_flight: None,
            next_id: 0,
            polls: 0,
            failed_in_a_row: 0,
            notice_given: false,
            failed: None,
            done: None,
            config,
        };
        for id in checked.email_ids() {
            watch.track(id.clone(), false);
        }
        Ok(watch)
    }

    fn track(&mut self, id: String, via_address: bool) -> usize {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let id_time = id_time(&id, self.config.server_offset);
        self.index.insert(id.clone(), self.emails.len());
        self.emails.push(Tracked { id, id_time, request_day: None, recipient: None, via_address, state: None });
        self.emails.len() - 1
    }

    /// The deadline (server-local), if any.
    pub fn deadline(&self) -> Option<NaiveDateTime> {
        self.deadline
    }

    /// Polls completed so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Every email followed: the ones given, then the ones found through
    /// the address; `is_final` as of `now`.
    pub fn emails(&self, now: NaiveDateTime) -> Vec<WatchedEmail> {
        self.emails
            .iter()
            .map(|t| WatchedEmail {
                email_id: t.id.clone(),
                recipient: t.recipient.clone(),
                category: t.state.as_ref().map(|s| s.category),
                sub_status: t.state.as_ref().and_then(|s| s.sub_status),
                is_final: self.is_final(t, now),
                via_address: t.via_address,
            })
            .collect()
    }

    fn grace(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.config.soft_bounce_grace).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// When a soft bounce's grace ends.
    fn grace_end(&self, t: &Tracked) -> Option<NaiveDateTime> {
        let s = t.state.as_ref()?;
        if s.category != Category::SoftBounce {
            return None;
        }
        s.soft_since.and_then(|since| since.checked_add_signed(self.grace()))
    }

    fn is_final(&self, t: &Tracked, now: NaiveDateTime) -> bool {
        match t.state.as_ref().map(|s| s.category) {
            Some(Category::Delivered | Category::Invalid) => true,
            Some(Category::SoftBounce) => self.grace_end(t).is_some_and(|end| end <= now),
            _ => false,
        }
    }

    fn outcome(&self, now: NaiveDateTime, deadline_passed: bool) -> WatchOutcome {
        let (mut delivered, mut invalid, mut soft_bounced, mut pending) = (0, 0, 0, 0);
        for t in &self.emails {
            match t.state.as_ref().map(|s| s.category) {
                Some(Category::Delivered) => delivered += 1,
                Some(Category::Invalid) => invalid += 1,
                Some(Category::SoftBounce) if self.is_final(t, now) => soft_bounced += 1,
                _ => pending += 1,
            }
        }
        if self.address_unseen() {
            pending += 1;
        }
        let end = if invalid + soft_bounced > 0 {
            WatchEnd::Failed
        } else if deadline_passed || pending > 0 {
            WatchEnd::DeadlinePassed
        } else {
            WatchEnd::AllDelivered
        };
        WatchOutcome { end, delivered, invalid, soft_bounced, pending, polls: self.polls }
    }

    /// An address is watched and no email to it was seen yet.
    fn address_unseen(&self) -> bool {
        self.email.is_some() && !self.emails.iter().any(|t| t.via_address)
    }

    fn all_final(&self, now: NaiveDateTime) -> bool {
        !self.address_unseen() && self.emails.iter().all(|t| self.is_final(t, now))
    }

    /// What to do next. An error is final: every later call returns it.
    pub fn next(&mut self, now: NaiveDateTime) -> Result<WatchAction> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if let Some(outcome) = &self.done {
            return Ok(WatchAction::Done(outcome.clone()));
        }
        if !self.notice_given {
            self.notice_given = true;
            if self.config.interval < SERVER_CACHE_PERIOD && !self.config.loopback {
                return Ok(WatchAction::Notice(WatchNotice::CachedAnswers { interval: self.config.interval }));
            }
        }
        if self.in_flight.is_some() {
            return Ok(WatchAction::AwaitPoll);
        }
        if self.polls > 0 && self.all_final(now) {
            return Ok(self.finish(now, false));
        }
        if self.deadline.is_some_and(|d| d <= now) {
            return Ok(self.finish(now, true));
        }
        if now >= self.next_poll {
            let id = PollId(self.next_id);
            self.next_id += 1;
            self.in_flight = Some((id, now));
            return Ok(WatchAction::Poll(Poll { id, queries: self.queries()? }));
        }
        let grace_end = self.emails.iter().filter_map(|t| self.grace_end(t)).filter(|&end| end > now).min();
        let wake = [Some(self.next_poll), self.deadline, grace_end].into_iter().flatten().min().unwrap_or(now);
        Ok(WatchAction::WaitUntil(wake))
    }

    fn finish(&mut self, now: NaiveDateTime, deadline_passed: bool) -> WatchAction {
        let outcome = self.outcome(now, deadline_passed);
        self.done = Some(outcome.clone());
        WatchAction::Done(outcome)
    }

    /// The window an id is searched in, when its day is known.
    fn window(&self, t: &Tracked) -> Option<(NaiveDate, NaiveDate)> {
        if let Some(day) = t.request_day {
            return Some((day, day));
        }
        let time = t.id_time?;
        Some(((time - MIDNIGHT_MARGIN).date(), (time + MIDNIGHT_MARGIN).date()))
    }

    /// The requests of a poll: pending ids grouped by window (an address's
    /// emails come with the address's query).
    fn queries(&self) -> Result<Vec<Query>> {
        let now_final = |t: &Tracked| match t.state.as_ref().map(|s| s.category) {
            // A soft bounce is asked for again while in its grace.
            Some(Category::Delivered | Category::Invalid) => true,
            _ => false,
        };
        let pending: Vec<&Tracked> = self.emails.iter().filter(|t| !t.via_address && !now_final(t)).collect();
        let mut dated: Vec<((NaiveDate, NaiveDate), &str)> = Vec::new();
        let mut undated: Vec<&str> = Vec::new();
        for t in pending {
            match self.window(t) {
                Some(w) => dated.push((w, &t.id)),
                None => undated.push(&t.id),
            }
        }
        dated.sort();
        let max_days = i64::from(self.config.max_window_days);
        let per_request = self.config.ids_per_request;
        let mut queries = Vec::new();
        let mut group: Option<((NaiveDate, NaiveDate), Vec<&str>)> = None;
        for ((start, end), id) in dated {
            if let Some(((gs, ge), ids)) = &mut group {
                let span = (end.max(*ge) - (*gs).min(start)).num_days() + 1;
                if ids.len() < per_request && span <= max_days {
                    *ge = end.max(*ge);
                    ids.push(id);
                    continue;
                }
                let ((gs, ge), ids) = group.take().unwrap_or_else(|| unreachable!());
                queries.push(Query::builder().dates(gs, ge).email_ids(ids).build()?);
            }
            group = Some(((start, end), vec![id]));
        }
        if let Some(((gs, ge), ids)) = group {
            queries.push(Query::builder().dates(gs, ge).email_ids(ids).build()?);
        }
        for chunk in undated.chunks(per_request) {
            queries.push(Query::builder().days(self.config.fallback_days).email_ids(chunk.to_vec()).build()?);
        }
        if let Some(email) = &self.email {
            queries.push(Query::builder().days(self.config.fallback_days).email(email.as_str()).build()?);
        }
        Ok(queries)
    }

    fn schedule_after(&mut self, started: NaiveDateTime) {
        let jitter_ms = u64::try_from(self.config.max_jitter.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 { 0 } else { self.jitter.next_u64() % (jitter_ms + 1) };
        let spacing = self.config.interval.saturating_add(Duration::from_millis(extra));
        self.next_poll = chrono::TimeDelta::from_std(spacing)
            .ok()
            .and_then(|d| started.checked_add_signed(d))
            .unwrap_or(NaiveDateTime::MAX);
    }

    /// Every record the poll's queries returned (any order); returns the
    /// transitions they show, in the order of the records.
    pub fn poll_done(&mut self, id: PollId, records: &[Record], now: NaiveDateTime) -> Vec<Transition> {
        let Some((out, started)) = self.in_flight else { return Vec::new() };
        if out != id {
            return Vec::new();
        }
        self.in_flight = None;
        self.polls += 1;
        self.failed_in_a_row = 0;
        self.schedule_after(started);
        let _ = now;
        let mut transitions = Vec::new();
        for r in records {
            if let Some(t) = self.observe(r, started) {
                transitions.push(t);
            }
        }
        transitions
    }

    fn observe(&mut self, r: &Record, observed_at: NaiveDateTime) -> Option<Transition> {
        let id = r.email_id.as_deref()?;
        let i = match self.index.get(id) {
            Some(&i) => i,
            None => {
                let to_address = match (&self.email, &r.recipient) {
                    (Some(e), Some(rcpt)) => e.eq_ignore_ascii_case(rcpt.trim()),
                    _ => false,
                };
                if !to_address {
                    return None;
                }
                self.track(id.to_owned(), true)
            }
        };
        let offset = self.config.server_offset;
        let modified_at = r.modified_time.as_ref().and_then(|t| t.datetime());
        let modified = modified_at.map(|d| d.with_timezone(&offset).naive_local());
        let t = &mut self.emails[i];
        if let Some(day) = r.request_time.as_ref().and_then(|t| t.datetime()) {
            t.request_day = Some(day.with_timezone(&offset).date_naive());
        }
        if r.recipient.is_some() {
            t.recipient = r.recipient.clone();
        }
        let (category, sub_status) = (r.category, r.sub_status);
        if let Some(old) = &mut t.state {
            let old_final = matches!(old.category, Category::Delivered | Category::Invalid | Category::SoftBounce);
            let older = match (old.modified, modified) {
                (Some(o), Some(n)) => n < o || (n == o && category == Category::Sending && old_final),
                _ => category == Category::Sending && old_final,
            };
            if older {
                return None; // a cached answer: never step back
            }
            if old.category == category && old.sub_status == sub_status {
                if category == Category::SoftBounce && modified > old.modified {
                    // Bounced again: the vendor is still retrying.
                    old.soft_since = modified.map(|m| m.min(observed_at));
                }
                old.modified = old.modified.max(modified);
                return None;
            }
        }
        let from = t.state.as_ref().map(|s| (s.category, s.sub_status));
        let soft_since = (category == Category::SoftBounce).then(|| modified.unwrap_or(observed_at).min(observed_at));
        t.state = Some(State { category, sub_status, modified, soft_since });
        Some(Transition {
            email_id: t.id.clone(),
            recipient: t.recipient.clone(),
            from: from.map(|f| f.0),
            from_sub_status: from.and_then(|f| f.1),
            to: category,
            sub_status,
            changed_at: modified_at,
            observed_at,
        })
    }

    /// The poll failed (its export gave up). A failure that another try
    /// cannot fix (authentication, validation, quota) ends the watch with
    /// that error, as do [`max_failed_polls`](WatchConfig::max_failed_polls)
    /// failures in a row; otherwise the next poll comes at its usual time.
    pub fn poll_failed(&mut self, id: PollId, error: Error, now: NaiveDateTime) {
        let Some((out, started)) = self.in_flight else { return };
        if out != id {
            return;
        }
        let _ = now;
        self.in_flight = None;
        self.failed_in_a_row += 1;
        if !error.is_retryable() || error.kind() == ErrorKind::Quota {
            self.failed = Some(error);
        } else if self.failed_in_a_row >= self.config.max_failed_polls.max(1) {
            let n = self.failed_in_a_row;
            self.failed = Some(error.with_hint(format!("{n} polls in a row failed")));
        } else {
            self.schedule_after(started);
        }
    }
}

/// The send time an id starts with (`1425758592214_…`), on the server's
/// calendar; `None` when it does not start with a plausible one.
pub fn id_time(id: &str, offset: FixedOffset) -> Option<NaiveDateTime> {
    let digits = id.split(|c: char| !c.is_ascii_digit()).next()?;
    if digits.len() != 13 || !id[13..].starts_with(['_', '.', '$', '-']) {
        return None;
    }
    let ms: i64 = digits.parse().ok().filter(|ms| ID_MS.contains(ms))?;
    Some(Utc.timestamp_millis_opt(ms).single()?.with_timezone(&offset).naive_local())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Window;

    fn t(s: &str) -> NaiveDateTime {
        s.replace(' ', "T").parse().unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn off() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }
    /// An id sent at a server-local time.
    fn id_at(local: &str, n: u32) -> String {
        let ms = off().from_local_datetime(&t(local)).unwrap().timestamp_millis();
        format!("{ms}_{n}_7.sc-10_1-inbound0$u{n}@example.com")
    }
    fn config() -> WatchConfig {
        WatchConfig::new(&Endpoint::default()).jitter_seed(1)
    }
    fn row(id: &str, category: Category, sub: Option<u16>, modified: &str) -> Record {
        Record {
            email_id: Some(id.to_owned()),
            category,
            sub_status: sub.map(SubStatus::from_code),
            recipient: Some("u@example.com".into()),
            modified_time: Some(crate::record::ServerTime::parse(modified, off())),
            ..Record::default()
        }
    }
    fn poll(w: &mut Watch, now: NaiveDateTime) -> Poll {
        loop {
            match w.next(now).unwrap() {
                WatchAction::Poll(p) => return p,
                WatchAction::Notice(_) => continue,
                other => panic!("expected a poll at {now}, got {other:?}"),
            }
        }
    }
    fn dates(q: &Query) -> (NaiveDate, NaiveDate) {
        match q.window() {
            Window::Dates { start, end } => (start, end),
            Window::Days(n) => panic!("days {n}"),
        }
    }

    #[test]
    fn id_times_are_read_on_the_server_calendar() {
        let id = id_at("2024-05-20 00:00:30", 1);
        assert_eq!(id_time(&id, off()), Some(t("2024-05-20T00:00:30")));
        assert_eq!(
            id_time("1425758592214_4576_32113_9310.sc-10_10_127_105-inbound0$ben@ifaxin.com", off())
                .map(|t| t.to_string()),
            Some("2015-03-08 04:03:12.214".into())
        );
        for bad in ["abc", "12345_1", "14257585922140_1", "1425758592214x", "0425758592214_1", ""] {
            assert_eq!(id_time(bad, off()), None, "{bad}");
        }
    }

    #[test]
    fn ids_are_grouped_twenty_per_request_by_window() {
        let mut ids: Vec<String> = (0..45).map(|n| id_at("2024-05-20 10:00:00", n)).collect();
        ids.push(id_at("2024-05-14 10:00:00", 99)); // another window
        ids.push(id_at("2024-05-19 23:59:30", 98)); // near midnight: both days
        ids.push("no-time-prefix$x@example.com".into());
        let now = t("2024-05-20T12:00:00");
        let mut w = Watch::new(config(), ids, Some("who@example.com"), now).unwrap();
        let p = poll(&mut w, now);
        let shape: Vec<_> = p
            .queries
            .iter()
            .map(|q| (q.email_ids().len(), matches!(q.window(), Window::Days(3)), q.email().is_some()))
            .collect();
        assert_eq!(
            shape,
            [
                (1, false, false),
                (20, false, false),
                (20, false, false),
                (6, false, false),
                (1, true, false),
                (0, true, true)
            ]
        );
        assert_eq!(dates(&p.queries[0]), (d("2024-05-14"), d("2024-05-14")));
        // The near-midnight id opens its group with both days; the next 19 join it (span 2 ≤ 3).
        assert_eq!(dates(&p.queries[1]), (d("2024-05-19"), d("2024-05-20")));
        assert_eq!(dates(&p.queries[3]), (d("2024-05-20"), d("2024-05-20")));
        let all: std::collections::HashSet<&String> = p.queries.iter().flat_map(|q| q.email_ids()).collect();
        assert_eq!(all.len(), 48);
    }

    #[test]
    fn polls_are_spaced_by_the_interval_plus_bounded_jitter() {
        let id = id_at("2024-05-20 10:00:00", 1);
        let start = t("2024-05-20T10:00:05");
        let run = |seed| {
            let mut w = Watch::new(config().jitter_seed(seed), [id.clone()], None, start).unwrap();
            let mut now = start;
            let mut polls = Vec::new();
            while polls.len() < 5 {
                match w.next(now).unwrap() {
                    WatchAction::Poll(p) => {
                        polls.push(now);
                        now += chrono::TimeDelta::seconds(3); // the poll takes 3 s
                        w.poll_done(p.id, &[row(&id, Category::Sending, None, "2024-05-20 10:00:01")], now);
                    }
                    WatchAction::WaitUntil(next) => now = next,
                    other => panic!("{other:?}"),
                }
            }
            polls
        };
        let polls = run(1);
        assert_eq!(polls[0], start, "the first poll is at once");
        for pair in polls.windows(2) {
            let gap = (pair[1] - pair[0]).num_milliseconds();
            assert!((600_000..=660_000).contains(&gap), "{gap}");
        }
        assert_eq!(polls, run(1), "same seed, same schedule");
        assert_ne!(polls, run(2));
    }

    #[test]
    fn transitions_and_outcomes() {
        let a = id_at("2024-05-20 10:00:00", 1);
        let b = id_at("2024-05-20 10:00:01", 2);
        let mut now = t("2024-05-20T10:01:00");
        let mut w = Watch::new(config().interval(Duration::from_secs(60)), [&a, &b], None, now).unwrap();
        assert!(matches!(w.next(now).unwrap(), WatchAction::Notice(WatchNotice::CachedAnswers { .. })));
        let p = poll(&mut w, now);
        let ts = w.poll_done(p.id, &[row(&a, Category::Sending, None, "2024-05-20 10:00:00")], now);
        assert_eq!((ts.len(), ts[0].from, ts[0].to), (1, None, Category::Sending));
        assert!(matches!(w.next(now).unwrap(), WatchAction::WaitUntil(_)));
        now += chrono::TimeDelta::minutes(2);
        let p = poll(&mut w, now);
        let ts = w.poll_done(
            p.id,
            &[
                row(&a, Category::Delivered, None, "2024-05-20 10:02:00"),
                row(&b, Category::Invalid, Some(406), "2024-05-20 10:02:30"),
            ],
            now,
        );
        assert_eq!(
            ts.iter().map(|t| (t.from, t.to)).collect::<Vec<_>>(),
            [(Some(Category::Sending), Category::Delivered), (None, Category::Invalid)]
        );
        assert_eq!(ts[1].sub_status, Some(SubStatus::AddressNotExist));
        assert_eq!(ts[1].changed_at.unwrap().to_rfc3339(), "2024-05-20T10:02:30+08:00");
        let WatchAction::Done(o) = w.next(now).unwrap() else { panic!() };
        assert_eq!((o.end, o.delivered, o.invalid, o.pending, o.polls), (WatchEnd::Failed, 1, 1, 0, 2));
        assert!(matches!(w.next(now).unwrap(), WatchAction::Done(_)), "done stays done");
    }

    #[test]
    fn a_cached_answer_never_steps_back() {
        let a = id_at("2024-05-20 10:00:00", 1);
        let mut now = t("2024-05-20T10:01:00");
        let mut w =
            Watch::new(config().interval(Duration::from_secs(1)).max_jitter(Duration::ZERO), [&a], None, now).unwrap();
        let p = poll(&mut w, now);
        w.poll_done(p.id, &[row(&a, Category::SoftBounce, Some(503), "2024-05-20 10:00:50")], now);
        now += chrono::TimeDelta::seconds(1);
        let p = poll(&mut w, now);
        let back = w.poll_done(p.id, &[row(&a, Category::Sending, None, "2024-05-20 10:00:00")], now);
        assert!(back.is_empty());
        assert_eq!(w.emails(now)[0].category, Some(Category::SoftBounce));
    }

    #[test]
    fn a_soft_bounce_is_final_after_the_grace() {
        let a = id_at("2024-05-20 10:00:00", 1);
        let start = t("2024-05-20T10:01:00");
        let mut w = Watch::new(config(), [&a], None, start).unwrap();
        let p = poll(&mut w, start);
        w.poll_done(p.id, &[row(&a, Category::SoftBounce, Some(503), "2024-05-20 10:00:30")], start);
        // Polls go on during the grace; the watch ends exactly when it runs out.
        let mut now = start;
        let mut polls = 1;
        let outcome = loop {
            match w.next(now).unwrap() {
                WatchAction::Poll(p) => {
                    polls += 1;
                    w.poll_done(p.id, &[row(&a, Category::SoftBounce, Some(503), "2024-05-20 10:00:30")], now);
                }
                WatchAction::WaitUntil(next) => now = next,
                WatchAction::Done(o) => break o,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(now, t("2024-05-20T11:00:30"), "grace counts from modifiedTime");
        assert_eq!((outcome.end, outcome.soft_bounced, polls), (WatchEnd::Failed, 1, 6));

        // Within the grace, a retry that delivers wins.
        let mut w = Watch::new(config(), [&a], None, start).unwrap();
        let p = poll(&mut w, start);
        w.poll_done(p.id, &[row(&a, Category::SoftBounce, Some(503), "2024-05-20 10:00:30")], start);
        let later = t("2024-05-20T10:20:00");
        let p = poll(&mut w, later);
        let ts = w.poll_done(p.id, &[row(&a, Category::Delivered, None, "2024-05-20 10:15:00")], later);
        assert_eq!(ts[0].from, Some(Category::SoftBounce));
        assert!(matches!(w.next(later).unwrap(), WatchAction::Done(WatchOutcome { end: WatchEnd::AllDelivered, .. })));
    }

    #[test]
    fn the_deadline_ends_a_watch_with_emails_pending() {
        let a = id_at("2024-05-20 10:00:00", 1);
        let start = t("2024-05-20T10:01:00");
        let mut w = Watch::new(config().timeout(Some(Duration::from_secs(1500))), [&a], None, start).unwrap();
        let mut now = start;
        let outcome = loop {
            match w.next(now).unwrap() {
                WatchAction::Poll(p) => {
                    w.poll_done(p.id, &[], now);
                }
                WatchAction::WaitUntil(next) => now = next,
                WatchAction::Done(o) => break o,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(now, t("2024-05-20T10:26:00"));
        assert_eq!((outcome.end, outcome.pending, outcome.polls), (WatchEnd::DeadlinePassed, 1, 3));
    }

    #[test]
    fn an_address_follows_every_email_sent_to_it() {
        let now = t("2024-05-20T10:01:00");
        let mut w = Watch::new(config(), Vec::<String>::new(), Some("U@Example.com"), now).unwrap();
        let p = poll(&mut w, now);
        assert_eq!(p.queries.len(), 1);
        assert!(w.poll_done(p.id, &[], now).is_empty());
        let later = now + chrono::TimeDelta::minutes(11);
        let p = poll(&mut w, later);
        let mut other = row("1716170000000_9$v@example.com", Category::Delivered, None, "2024-05-20 10:05:00");
        other.recipient = Some("v@example.com".into());
        let ts = w.poll_done(
            p.id,
            &[row(&id_at("2024-05-20 10:00:00", 1), Category::Delivered, None, "2024-05-20 10:05:00"), other],
            later,
        );
        assert_eq!(ts.len(), 1, "only mail to the address is followed");
        assert!(w.emails(later)[0].via_address);
        assert!(matches!(w.next(later).unwrap(), WatchAction::Done(WatchOutcome { end: WatchEnd::AllDelivered, .. })));
    }

    #[test]
    fn failed_polls() {
        let a = id_at("2024-05-20 10:00:00", 1);
        let now = t("2024-05-20T10:01:00");
        let mut w = Watch::new(config().max_jitter(Duration::ZERO), [&a], None, now).unwrap();
        let p = poll(&mut w, now);
        w.poll_failed(p.id, Error::transport("refused"), now);
        assert_eq!(w.next(now).unwrap(), WatchAction::WaitUntil(t("2024-05-20T10:11:00")));
        let p = poll(&mut w, t("2024-05-20T10:11:00"));
        w.poll_failed(p.id, Error::transport("refused"), now);
        let p = poll(&mut w, t("2024-05-20T10:21:00"));
        w.poll_failed(p.id, Error::transport("refused"), now);
        let err = w.next(now).unwrap_err();
        assert!(err.message().contains("3 polls in a row failed"), "{err}");

        let mut w = Watch::new(config(), [&a], None, now).unwrap();
        let p = poll(&mut w, now);
        w.poll_failed(p.id, crate::decode::classify(200, Some(40005), "auth"), now);
        assert_eq!(w.next(now).unwrap_err().kind(), ErrorKind::Auth);
    }

    #[test]
    fn settings_are_checked() {
        let now = t("2024-05-20T10:01:00");
        let none: [&str; 0] = [];
        assert_eq!(Watch::new(config(), none, None, now).unwrap_err().field(), Some("email_ids"));
        assert_eq!(Watch::new(config(), ["a;b"], None, now).unwrap_err().field(), Some("email_ids"));
        assert_eq!(Watch::new(config(), none, Some("nope"), now).unwrap_err().field(), Some("email"));
        let fast = config().interval(Duration::from_millis(500));
        assert_eq!(Watch::new(fast, ["x"], None, now).unwrap_err().field(), Some("interval"));
        // Loopback and the default interval: no notice.
        let local = WatchConfig::new(&Endpoint::custom("http://127.0.0.1:9/api/").unwrap()).interval(MIN_INTERVAL);
        let mut w = Watch::new(local, ["x"], None, now).unwrap();
        assert!(matches!(w.next(now).unwrap(), WatchAction::Poll(_)));
        let mut w = Watch::new(config(), ["x"], None, now).unwrap();
        assert!(matches!(w.next(now).unwrap(), WatchAction::Poll(_)));
    }
}

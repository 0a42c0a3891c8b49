//! The sync planner: which server days a `sync` reads into a local
//! archive, given what the archive knows and the time now. Plain data in,
//! plain data out: no clock, no storage, no I/O.
//!
//! # What the archive remembers
//!
//! For every server day it has read (per apiUser scope), a [`DayState`]:
//! whether the last full read of the day was exact ([`ExportStats::is_exact`]),
//! when the day was last read, how many rows it holds and how many of them
//! are still "sending".
//!
//! # Decisions
//!
//! ```text
//!   today = now's date; horizon = today − (retention − 1)   (older days are gone from the server)
//!   start = since, else the archive's oldest day, else today − (first_run_days − 1); at least horizon
//!
//!   ┌ every day start ..= today never read ............................ New        ┐
//!   ├ every day start ..= today whose last read was not exact ......... Incomplete │ read in full
//!   ├ (last complete day − lookback) ..= today ........................ Lookback   ┘
//!   └ a day today − max_age ..= today still holding "sending" rows .... Sending:
//!        by the ids of those rows when that takes fewer requests than the whole day,
//!        else in full
//!
//!   then drop every day read less than `rescan_after` ago (the server would answer
//!   from its 10-minute cache), unless `rescan_after` is zero; oldest day first
//! ```
//!
//! - **First run**: nothing is known, so every day from `since` (default 30
//!   days back, today included) to today is new.
//! - **Later runs**: days after the last complete day are new; the lookback
//!   re-reads the days just before it, where late bounces still change rows.
//! - **Inexact days** (the account kept moving while they were read) are
//!   read again on the next run, whatever their age within the retention.
//! - **Old "sending" rows** are the only rows of an old day that still
//!   change; asking for them by id (20 per request) costs less than paging
//!   the whole day whenever fewer than a fifth of the day's rows are sending.
//! - **An interrupted run** leaves the days it had not finished as they
//!   were (new, or with their previous state), so the next run reads them.
//!
//! # Feeding the export machine
//!
//! [`SyncPlan::segments`] groups the days into exports: one [`Export`] per
//! contiguous run of days read in full (the machine splits it into the
//! region's windows and applies the limiter, retries and drift healing), and
//! one per day read by ids. A day is complete once every window covering it
//! ended exactly; a window that stayed unstable leaves its days incomplete.
//!
//! [`Export`]: crate::Export
//! [`ExportStats::is_exact`]: crate::ExportStats::is_exact
//!
//! ```
//! use sendcloud_status_core::sync::{plan, DayState, Reason, Segment, SyncPolicy};
//! use sendcloud_status_core::chrono::NaiveDate;
//!
//! let d = |s: &str| s.parse::<NaiveDate>().unwrap();
//! let now = d("2024-05-20").and_hms_opt(9, 0, 0).unwrap();
//!
//! // A first run: the last 30 days, oldest first, one export.
//! let first = plan(&SyncPolicy::default(), &[], now).unwrap();
//! assert_eq!(first.days.len(), 30);
//! assert_eq!(first.segments(), [Segment::Full { start: d("2024-04-21"), end: d("2024-05-20") }]);
//!
//! // The next day: yesterday was complete, so the lookback and today.
//! let known: Vec<DayState> = (0..30)
//!     .map(|i| DayState::new(d("2024-04-21") + chrono::Days::new(i)).read_at(now, true))
//!     .collect();
//! let next = plan(&SyncPolicy::default(), &known, now + chrono::Duration::days(1)).unwrap();
//! assert_eq!(next.segments(), [Segment::Full { start: d("2024-05-17"), end: d("2024-05-21") }]);
//! assert_eq!(next.days.last().unwrap().reason, Reason::New);
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::error::{Error, Result, ValidationReason};

/// Days a first run reads when no `since` is given (today included).
pub const DEFAULT_FIRST_RUN_DAYS: u32 = 30;
/// Days before the last complete day that later runs read again.
pub const DEFAULT_LOOKBACK_DAYS: u32 = 3;
/// Oldest day (in days before today) re-read for its "sending" rows.
pub const DEFAULT_SENDING_MAX_AGE_DAYS: u32 = 7;
/// A day read more recently than this is not read again: the server
/// answers the same query from its cache for 10 minutes.
pub const DEFAULT_RESCAN_AFTER: Duration = Duration::from_secs(600);
/// How long the vendor keeps data (6 months): older days are never read.
pub const RETENTION_DAYS: u32 = 180;

/// The planner's settings. [`Default`] holds the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncPolicy {
    /// The first day to consider. `None`: the archive's oldest day, or
    /// [`first_run_days`](Self::first_run_days) back on a first run.
    /// Clamped to the retention.
    pub since: Option<NaiveDate>,
    /// Days a first run reads without `since` (today included).
    pub first_run_days: u32,
    /// Days before the last complete day that are read again.
    pub lookback_days: u32,
    /// Oldest day, in days before today, re-read for its "sending" rows.
    pub sending_max_age_days: u32,
    /// A day read less than this long ago is skipped (zero: never skipped).
    pub rescan_after: Duration,
    /// Days the server keeps ([`RETENTION_DAYS`]).
    pub retention_days: u32,
    /// Rows per page of a full read (the API's maximum is 100).
    pub page_size: u32,
    /// Email ids per request of a read by ids.
    pub ids_per_request: u32,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            since: None,
            first_run_days: DEFAULT_FIRST_RUN_DAYS,
            lookback_days: DEFAULT_LOOKBACK_DAYS,
            sending_max_age_days: DEFAULT_SENDING_MAX_AGE_DAYS,
            rescan_after: DEFAULT_RESCAN_AFTER,
            retention_days: RETENTION_DAYS,
            page_size: crate::query::MAX_PAGE_SIZE,
            ids_per_request: crate::export::DEFAULT_EMAIL_ID_CHUNK as u32,
        }
    }
}

impl SyncPolicy {
    /// Sets [`since`](Self::since).
    pub fn since(mut self, day: Option<NaiveDate>) -> Self {
        self.since = day;
        self
    }
    /// Sets [`lookback_days`](Self::lookback_days).
    pub fn lookback_days(mut self, days: u32) -> Self {
        self.lookback_days = days;
        self
    }
    /// Sets [`sending_max_age_days`](Self::sending_max_age_days).
    pub fn sending_max_age_days(mut self, days: u32) -> Self {
        self.sending_max_age_days = days;
        self
    }
    /// Sets [`rescan_after`](Self::rescan_after).
    pub fn rescan_after(mut self, after: Duration) -> Self {
        self.rescan_after = after;
        self
    }
    /// Sets [`ids_per_request`](Self::ids_per_request) (the client's id chunk).
    pub fn ids_per_request(mut self, n: u32) -> Self {
        self.ids_per_request = n;
        self
    }
}

/// What the archive knows about one server day.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DayState {
    /// The server day.
    pub day: NaiveDate,
    /// The last full read of the day ended exactly.
    pub complete: bool,
    /// When the day was last read (server-local), in full or by ids.
    pub last_read_at: Option<NaiveDateTime>,
    /// Rows of the day in the archive.
    pub rows: u64,
    /// Of those, rows still "sending".
    pub sending: u64,
}

impl DayState {
    /// A day never read.
    pub fn new(day: NaiveDate) -> DayState {
        DayState { day, complete: false, last_read_at: None, rows: 0, sending: 0 }
    }
    /// Read at `at`; `complete` when the read was a full, exact one.
    pub fn read_at(mut self, at: NaiveDateTime, complete: bool) -> DayState {
        self.last_read_at = Some(at);
        self.complete = complete;
        self
    }
    /// Holds `rows` rows, `sending` of them still "sending".
    pub fn with_rows(mut self, rows: u64, sending: u64) -> DayState {
        self.rows = rows;
        self.sending = sending;
        self
    }
}

/// Why a day is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Never read.
    New,
    /// Its last read was not exact (or not a full one).
    Incomplete,
    /// Within the lookback before the last complete day.
    Lookback,
    /// An older day still holding "sending" rows.
    Sending,
}

impl Reason {
    /// `new`, `incomplete`, `lookback` or `sending`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::New => "new",
            Reason::Incomplete => "incomplete",
            Reason::Lookback => "lookback",
            Reason::Sending => "sending",
        }
    }
}

/// How a day is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Read {
    /// Every row of the day, page by page.
    Full,
    /// Only the rows the archive holds as "sending", by their ids.
    SendingRows,
}

/// One day of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedDay {
    /// The server day.
    pub day: NaiveDate,
    /// Why it is read.
    pub reason: Reason,
    /// How.
    pub read: Read,
}

/// One export of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Segment {
    /// A contiguous run of days read in full: one export over `start ..= end`.
    Full {
        /// First day.
        start: NaiveDate,
        /// Last day, inclusive.
        end: NaiveDate,
    },
    /// One day read by the ids of its "sending" rows.
    SendingRows {
        /// The day.
        day: NaiveDate,
    },
}

impl Segment {
    /// The first day the segment reads.
    pub fn start(&self) -> NaiveDate {
        match *self {
            Segment::Full { start, .. } => start,
            Segment::SendingRows { day } => day,
        }
    }
}

/// What a sync reads. See the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncPlan {
    /// The server's today the plan was made on.
    pub today: NaiveDate,
    /// The first day considered (`since`, the archive's oldest day, or the
    /// first-run default; within the retention).
    pub start: NaiveDate,
    /// The days to read, oldest first.
    pub days: Vec<PlannedDay>,
    /// Days that would be read but were read less than `rescan_after` ago.
    pub skipped_recent: Vec<NaiveDate>,
    /// The `since` asked for, when it was older than the retention and
    /// moved up to [`start`](Self::start).
    pub clamped_since: Option<NaiveDate>,
}

impl SyncPlan {
    /// Nothing to read.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The exports to run, oldest first: one per contiguous run of days
    /// read in full, one per day read by ids.
    pub fn segments(&self) -> Vec<Segment> {
        let mut out: Vec<Segment> = Vec::new();
        for p in &self.days {
            match p.read {
                Read::SendingRows => out.push(Segment::SendingRows { day: p.day }),
                Read::Full => match out.last_mut() {
                    Some(Segment::Full { end, .. }) if end.succ_opt() == Some(p.day) => *end = p.day,
                    _ => out.push(Segment::Full { start: p.day, end: p.day }),
                },
            }
        }
        out
    }
}

/// Plans a sync: see the module doc. `days` is what the archive knows (any
/// order, one entry per day); `now` is the server-local time.
///
/// Fails (a validation error naming `since`) when `since` is after today,
/// and on a policy with zero `first_run_days`, `retention_days`,
/// `page_size` or `ids_per_request`.
pub fn plan(policy: &SyncPolicy, days: &[DayState], now: NaiveDateTime) -> Result<SyncPlan> {
    for (field, value) in [
        ("first_run_days", policy.first_run_days),
        ("retention_days", policy.retention_days),
        ("page_size", policy.page_size),
        ("ids_per_request", policy.ids_per_request),
    ] {
        if value == 0 {
            return Err(Error::invalid_value(field, ValidationReason::OutOfRange, "must be at least 1, got 0"));
        }
    }
    let today = now.date();
    let back = |n: u32| today.checked_sub_days(Days::new(u64::from(n))).unwrap_or(NaiveDate::MIN);
    let horizon = back(policy.retention_days - 1);
    let known: BTreeMap<NaiveDate, &DayState> = days.iter().map(|d| (d.day, d)).collect();

    let wanted =
        policy.since.or_else(|| known.keys().next().copied()).unwrap_or_else(|| back(policy.first_run_days - 1));
    if wanted > today {
        return Err(Error::invalid_value(
            "since",
            ValidationReason::Contradiction,
            format!("{wanted} is after today ({today}) on the server's calendar"),
        ));
    }
    let clamped_since = (wanted < horizon).then_some(wanted);
    let start = wanted.max(horizon);

    let mut planned: BTreeMap<NaiveDate, PlannedDay> = BTreeMap::new();
    let mut add = |day: NaiveDate, reason: Reason, read: Read| {
        planned.entry(day).or_insert(PlannedDay { day, reason, read });
    };
    for day in start.iter_days().take_while(|d| *d <= today) {
        match known.get(&day) {
            None => add(day, Reason::New, Read::Full),
            Some(s) if !s.complete => add(day, Reason::Incomplete, Read::Full),
            Some(_) => {}
        }
    }
    if let Some(last) = known.values().filter(|s| s.complete && s.day <= today).map(|s| s.day).max() {
        let from = last.checked_sub_days(Days::new(u64::from(policy.lookback_days))).unwrap_or(NaiveDate::MIN);
        for day in from.max(start).iter_days().take_while(|d| *d <= today) {
            add(day, Reason::Lookback, Read::Full);
        }
    }
    let sending_floor = back(policy.sending_max_age_days).max(horizon);
    for s in known.values().filter(|s| s.sending > 0 && (sending_floor..=today).contains(&s.day)) {
        let by_ids = s.sending.div_ceil(u64::from(policy.ids_per_request));
        let full = s.rows.max(1).div_ceil(u64::from(policy.page_size));
        add(s.day, Reason::Sending, if by_ids < full { Read::SendingRows } else { Read::Full });
    }

    let recent = |day: &NaiveDate| {
        !policy.rescan_after.is_zero()
            && known.get(day).and_then(|s| s.last_read_at).is_some_and(|at| {
                // A read "in the future" (a clock set back) counts as recent.
                (now - at).to_std().map_or(true, |age| age < policy.rescan_after)
            })
    };
    let (skipped, kept): (Vec<PlannedDay>, Vec<PlannedDay>) = planned.into_values().partition(|p| recent(&p.day));
    Ok(SyncPlan {
        today,
        start,
        days: kept,
        skipped_recent: skipped.into_iter().map(|p| p.day).collect(),
        clamped_since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(day: &str, h: u32, m: u32) -> NaiveDateTime {
        d(day).and_hms_opt(h, m, 0).unwrap()
    }

    /// Every day `from ..= to` read completely at `read`.
    fn complete(from: &str, to: &str, read: NaiveDateTime) -> Vec<DayState> {
        d(from).iter_days().take_while(|x| *x <= d(to)).map(|x| DayState::new(x).read_at(read, true)).collect()
    }

    fn days_of(plan: &SyncPlan) -> Vec<(String, Reason, Read)> {
        plan.days.iter().map(|p| (p.day.to_string(), p.reason, p.read)).collect()
    }

    #[test]
    fn first_run_reads_thirty_days_to_today_oldest_first() {
        let p = plan(&SyncPolicy::default(), &[], at("2024-05-20", 9, 0)).unwrap();
        assert_eq!(p.days.len(), 30);
        assert_eq!((p.start, p.today), (d("2024-04-21"), d("2024-05-20")));
        assert!(p.days.windows(2).all(|w| w[0].day.succ_opt() == Some(w[1].day)), "consecutive, oldest first");
        assert!(p.days.iter().all(|x| x.reason == Reason::New && x.read == Read::Full));
        assert_eq!(p.segments(), [Segment::Full { start: d("2024-04-21"), end: d("2024-05-20") }]);
        assert_eq!((p.clamped_since, p.skipped_recent.len()), (None, 0));
    }

    #[test]
    fn first_run_starts_at_since() {
        let policy = SyncPolicy::default().since(Some(d("2024-05-18")));
        let p = plan(&policy, &[], at("2024-05-20", 9, 0)).unwrap();
        assert_eq!(p.segments(), [Segment::Full { start: d("2024-05-18"), end: d("2024-05-20") }]);
        let today_only =
            plan(&SyncPolicy::default().since(Some(d("2024-05-20"))), &[], at("2024-05-20", 9, 0)).unwrap();
        assert_eq!(today_only.days.len(), 1);
    }

    #[test]
    fn since_is_capped_at_the_retention_and_must_not_be_in_the_future() {
        let policy = SyncPolicy::default().since(Some(d("2023-01-01")));
        let p = plan(&policy, &[], at("2024-05-20", 9, 0)).unwrap();
        assert_eq!(p.days.len(), 180);
        assert_eq!(p.start, d("2023-11-23")); // 2024-05-20 − 179 days
        assert_eq!(p.clamped_since, Some(d("2023-01-01")));
        // An archive last synced long ago catches up within the retention only.
        let old = complete("2023-06-01", "2023-06-30", at("2023-06-30", 9, 0));
        let p = plan(&SyncPolicy::default(), &old, at("2024-05-20", 9, 0)).unwrap();
        assert_eq!((p.days.len(), p.start), (180, d("2023-11-23")));
        let err = plan(&SyncPolicy::default().since(Some(d("2024-05-21"))), &[], at("2024-05-20", 23, 0)).unwrap_err();
        assert_eq!(err.field(), Some("since"));
    }

    #[test]
    fn later_runs_read_the_lookback_before_the_last_complete_day_and_the_new_days() {
        let known = complete("2024-04-21", "2024-05-20", at("2024-05-20", 9, 0));
        let p = plan(&SyncPolicy::default(), &known, at("2024-05-21", 9, 0)).unwrap();
        assert_eq!(
            days_of(&p),
            [
                ("2024-05-17".into(), Reason::Lookback, Read::Full),
                ("2024-05-18".into(), Reason::Lookback, Read::Full),
                ("2024-05-19".into(), Reason::Lookback, Read::Full),
                ("2024-05-20".into(), Reason::Lookback, Read::Full),
                ("2024-05-21".into(), Reason::New, Read::Full),
            ]
        );
        // Last run a week ago: the lookback before it, then every day since.
        let p = plan(&SyncPolicy::default(), &known, at("2024-05-27", 9, 0)).unwrap();
        assert_eq!(p.segments(), [Segment::Full { start: d("2024-05-17"), end: d("2024-05-27") }]);
        // A lookback of 0: the last complete day itself and after.
        let p = plan(&SyncPolicy::default().lookback_days(0), &known, at("2024-05-21", 9, 0)).unwrap();
        assert_eq!(p.segments(), [Segment::Full { start: d("2024-05-20"), end: d("2024-05-21") }]);
    }

    #[test]
    fn inexact_and_unread_days_are_read_again_whatever_their_age() {
        let mut known = complete("2024-04-21", "2024-05-20", at("2024-05-20", 9, 0));
        known[5].complete = false; // 2024-04-26 moved while it was read
        known.remove(10); // 2024-05-01 never finished (the run was killed)
        let p = plan(&SyncPolicy::default(), &known, at("2024-05-20", 9, 30)).unwrap();
        assert_eq!(
            p.segments(),
            [
                Segment::Full { start: d("2024-04-26"), end: d("2024-04-26") },
                Segment::Full { start: d("2024-05-01"), end: d("2024-05-01") },
                Segment::Full { start: d("2024-05-17"), end: d("2024-05-20") },
            ]
        );
        assert_eq!(p.days[0].reason, Reason::Incomplete);
        assert_eq!(p.days[1].reason, Reason::New);
    }

    #[test]
    fn old_days_with_sending_rows_are_read_up_to_the_maximum_age() {
        let mut known = complete("2024-04-21", "2024-05-20", at("2024-05-20", 9, 0));
        let set = |known: &mut Vec<DayState>, day: &str, rows: u64, sending: u64| {
            let s = known.iter_mut().find(|s| s.day == d(day)).unwrap();
            (s.rows, s.sending) = (rows, sending);
        };
        set(&mut known, "2024-05-10", 5_000, 3); // 11 days old on 05-21: too old
        set(&mut known, "2024-05-13", 400, 0); // nothing sending
        set(&mut known, "2024-05-14", 5_000, 30); // 7 days old: by ids (2 requests < 50 pages)
        set(&mut known, "2024-05-15", 150, 40); // by ids: 2 requests, in full: 2 pages → in full
        let p = plan(&SyncPolicy::default(), &known, at("2024-05-21", 9, 0)).unwrap();
        assert_eq!(
            days_of(&p)[..2],
            [
                ("2024-05-14".into(), Reason::Sending, Read::SendingRows),
                ("2024-05-15".into(), Reason::Sending, Read::Full),
            ]
        );
        assert_eq!(
            p.segments(),
            [
                Segment::SendingRows { day: d("2024-05-14") },
                Segment::Full { start: d("2024-05-15"), end: d("2024-05-15") },
                Segment::Full { start: d("2024-05-17"), end: d("2024-05-21") },
            ]
        );
        let p = plan(&SyncPolicy::default().sending_max_age_days(11), &known, at("2024-05-21", 9, 0)).unwrap();
        assert_eq!(p.days[0].day, d("2024-05-10"));
    }

    #[test]
    fn days_read_within_the_rescan_interval_are_skipped() {
        let mut known = complete("2024-05-01", "2024-05-19", at("2024-05-20", 8, 0));
        known.push(DayState::new(d("2024-05-20")).read_at(at("2024-05-20", 9, 0), true));
        let now = at("2024-05-20", 9, 5);
        let p = plan(&SyncPolicy::default(), &known, now).unwrap();
        assert_eq!(p.segments(), [Segment::Full { start: d("2024-05-17"), end: d("2024-05-19") }]);
        assert_eq!(p.skipped_recent, [d("2024-05-20")]);
        // Zero rescans every time; a shorter interval lets today through.
        let p = plan(&SyncPolicy::default().rescan_after(Duration::ZERO), &known, now).unwrap();
        assert_eq!((p.days.len(), p.skipped_recent.len()), (4, 0));
        let p = plan(&SyncPolicy::default().rescan_after(Duration::from_secs(240)), &known, now).unwrap();
        assert_eq!(p.days.len(), 4);
        // A read stamped after now (a clock set back) counts as recent.
        let p = plan(&SyncPolicy::default(), &known, at("2024-05-20", 8, 59)).unwrap();
        assert_eq!(p.skipped_recent, [d("2024-05-20")]);
        // Unread days are never skipped.
        assert!(plan(&SyncPolicy::default(), &[], now).unwrap().skipped_recent.is_empty());
    }

    #[test]
    fn a_bad_policy_is_a_validation_error() {
        let policy = SyncPolicy { ids_per_request: 0, ..SyncPolicy::default() };
        assert_eq!(plan(&policy, &[], at("2024-05-20", 9, 0)).unwrap_err().field(), Some("ids_per_request"));
    }
}

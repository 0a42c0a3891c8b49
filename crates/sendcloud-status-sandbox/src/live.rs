//! A live account's events: new mail arriving and "sending" rows settling.
//!
//! Each kind is an evenly spaced stream: with rate `r` set at instant `t0`, event `k` (from 1)
//! is due at `t0 + k / r`. Whoever looks at the data first applies every event due by then,
//! both streams merged in due order (an arrival first on a tie), stamped with the server time
//! of its due instant. Draws are keyed on the event's running number, so the same sequence of
//! events gives the same records whatever the request timing. Every change goes to the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::catalog::{DELIVERED, INVALID, INVALID_SUBS, SENDING, SOFT_BOUNCE, SOFT_SUBS};
use crate::clock::Clock;
use crate::config::LiveConfig;
use crate::dataset::Dataset;
use crate::rng::{hash, weighted};

const SALT_ARRIVE: u64 = 0xA771;
const SALT_SETTLE: u64 = 0x5E77;
const SALT_PICK: u64 = 0x91C4;

/// One change of a live account, as [`Sandbox::changes`](crate::Sandbox::changes) lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The record's emailId.
    pub email_id: String,
    /// What happened.
    pub kind: ChangeKind,
    /// Server time of the change, whole seconds: the row's new `requestTime` (arrived) or
    /// `modifiedTime` (settled).
    pub at: NaiveDateTime,
    /// API requests counted before the change was applied: request `after_request + 1` is the
    /// first that can see it.
    pub after_request: u64,
    /// The row's status code after the change (18 when it arrived).
    pub status_code: u8,
    /// The row's sub-status after the change, if any.
    pub sub_status: Option<u16>,
}

/// The kind of a [`Change`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// New mail: a "sending" row appeared.
    Arrived,
    /// A "sending" row became delivered, invalid or soft bounce.
    Settled,
}

impl ChangeKind {
    /// `"arrived"` or `"settled"`, as the control endpoint spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::Arrived => "arrived",
            ChangeKind::Settled => "settled",
        }
    }
}

/// A log entry, compact (the emailId is derived when the log is read).
#[derive(Clone, Copy, Debug)]
struct Entry {
    index: u32,
    kind: ChangeKind,
    at: NaiveDateTime,
    after_request: u64,
    status: u8,
    sub: u16,
}

/// Evenly spaced events at `rate` per second from `since`; `done` of them applied.
#[derive(Clone, Copy, Debug)]
struct Stream {
    rate: f64,
    since: Instant,
    done: u64,
}

impl Stream {
    fn due(&self, k: u64) -> Option<Instant> {
        if self.rate <= 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(k as f64 / self.rate).ok().and_then(|d| self.since.checked_add(d))
    }
    fn next_due(&self, until: Instant) -> Option<Instant> {
        self.due(self.done + 1).filter(|&t| t <= until)
    }
    /// Marks every event due by `until` as applied (without applying it).
    fn skip_until(&mut self, until: Instant) {
        let elapsed = until.saturating_duration_since(self.since).as_secs_f64();
        let mut k = ((elapsed * self.rate).floor() as u64).max(self.done);
        while k > self.done && self.due(k).is_none_or(|t| t > until) {
            k -= 1;
        }
        while self.due(k + 1).is_some_and(|t| t <= until) {
            k += 1;
        }
        self.done = k;
    }
}

/// The event streams of the current [`LiveConfig`], the "sending" rows and the change log.
#[derive(Debug)]
pub(crate) struct Events {
    seed: u64,
    arrivals: Stream,
    settles: Stream,
    /// Running numbers over every configuration, keying the draws.
    arrivals_total: u64,
    settles_total: u64,
    /// Indices of "sending" rows, found at the first settle and kept up to date after.
    sending: Option<Vec<u32>>,
    log: Vec<Entry>,
}

impl Events {
    pub fn new(seed: u64, live: &LiveConfig, since: Instant) -> Events {
        let mut e = Events {
            seed,
            arrivals: Stream { rate: 0.0, since, done: 0 },
            settles: Stream { rate: 0.0, since, done: 0 },
            arrivals_total: 0,
            settles_total: 0,
            sending: None,
            log: Vec::new(),
        };
        e.restart(live, since);
        e
    }

    /// New rates, counted from `since`.
    pub fn restart(&mut self, live: &LiveConfig, since: Instant) {
        self.arrivals = Stream { rate: live.arrivals_per_second, since, done: 0 };
        self.settles = Stream { rate: live.settle_per_second, since, done: 0 };
    }

    /// Applies every event due by `until`, in due order.
    pub fn apply_until(&mut self, until: Instant, clock: &Clock, data: &mut Arc<Dataset>, after_request: u64) {
        // An arrival needs a millisecond of its own that is not in the future; when there is
        // none left (bursts beyond one per millisecond), the rest wait for the next look.
        let limit_ms = data.offset_of(clock.at(until));
        let mut arrivals_blocked = false;
        loop {
            let a = if arrivals_blocked { None } else { self.arrivals.next_due(until) };
            let s = self.settles.next_due(until);
            let arrival_first = match (a, s) {
                (None, None) => break,
                (Some(ta), Some(ts)) => ta <= ts,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            match (arrival_first, a, s) {
                (true, Some(ta), _) => {
                    arrivals_blocked = !self.arrive(ta, clock, data, limit_ms, after_request);
                }
                (_, _, Some(ts)) => self.settle(ts, a.unwrap_or(until), clock, data, after_request),
                _ => break,
            }
        }
    }

    /// One arrival due at `t`; false when it has no millisecond yet.
    fn arrive(&mut self, t: Instant, clock: &Clock, data: &mut Arc<Dataset>, limit_ms: i64, after: u64) -> bool {
        let wanted = u64::try_from(data.offset_of(clock.at(t))).unwrap_or(0);
        let offset = data.last_offset().map_or(wanted, |last| wanted.max(last + 1));
        if i64::try_from(offset).map_or(true, |o| o > limit_ms) {
            return false;
        }
        let h = hash(self.seed, self.arrivals_total, SALT_ARRIVE);
        let i = Arc::make_mut(data).arrive(offset, h);
        self.arrivals.done += 1;
        self.arrivals_total += 1;
        if let Some(sending) = &mut self.sending {
            sending.push(i as u32);
        }
        if let Some(g) = data.record(i as u64) {
            self.log.push(Entry {
                index: i as u32,
                kind: ChangeKind::Arrived,
                at: g.request_time,
                after_request: after,
                status: SENDING,
                sub: 0,
            });
        }
        true
    }

    /// One settle due at `t`. With no "sending" row, the settles due before `next` (the next
    /// arrival, or the end of this catch-up) find nothing to do and are skipped at once.
    fn settle(&mut self, t: Instant, next: Instant, clock: &Clock, data: &mut Arc<Dataset>, after: u64) {
        let sending = self.sending.get_or_insert_with(|| sending_rows(data));
        if sending.is_empty() {
            self.settles.skip_until(next.max(t));
            return;
        }
        let n = self.settles_total;
        let pick = (hash(self.seed, n, SALT_PICK) % sending.len() as u64) as usize;
        let i = sending.swap_remove(pick) as usize;
        let (status, sub) = outcome(hash(self.seed, n, SALT_SETTLE));
        Arc::make_mut(data).settle(i, status, sub, clock.at(t));
        self.settles.done += 1;
        self.settles_total += 1;
        if let Some(g) = data.record(i as u64) {
            self.log.push(Entry {
                index: i as u32,
                kind: ChangeKind::Settled,
                at: g.modified_time,
                after_request: after,
                status,
                sub,
            });
        }
    }

    /// Entries in the log.
    pub fn len(&self) -> u64 {
        self.log.len() as u64
    }

    /// The log after entry `since`, each change with its record as it is now.
    pub fn changes_with_records(&self, data: &Dataset, since: u64) -> Vec<(Change, crate::dataset::GroundRecord)> {
        let from = usize::try_from(since).unwrap_or(usize::MAX).min(self.log.len());
        let changes = self.changes(data, since);
        changes
            .into_iter()
            .zip(&self.log[from..])
            .filter_map(|(c, e)| data.record(u64::from(e.index)).map(|g| (c, g)))
            .collect()
    }

    /// The log after entry `since` (0: all of it).
    pub fn changes(&self, data: &Dataset, since: u64) -> Vec<Change> {
        let from = usize::try_from(since).unwrap_or(usize::MAX).min(self.log.len());
        self.log[from..]
            .iter()
            .enumerate()
            .map(|(n, e)| Change {
                seq: (from + n + 1) as u64,
                email_id: data.email_id_of(e.index as usize),
                kind: e.kind,
                at: e.at,
                after_request: e.after_request,
                status_code: e.status,
                sub_status: (e.sub != 0).then_some(e.sub),
            })
            .collect()
    }
}

/// Indices of every "sending" row, in order.
fn sending_rows(data: &Dataset) -> Vec<u32> {
    (0..data.len() as usize).filter(|&i| data.rec(i).status == SENDING).map(|i| i as u32).collect()
}

/// How a sending row ends: 90% delivered, 6% invalid, 4% soft bounce (sub-statuses weighted as
/// in generated data).
fn outcome(h: u64) -> (u8, u16) {
    let roll = h % 100;
    let sub_roll = (h >> 8) % 100;
    if roll < 90 {
        (DELIVERED, 0)
    } else if roll < 96 {
        (INVALID, INVALID_SUBS[weighted(&INVALID_SUBS.map(|s| s.weight), sub_roll)].code)
    } else {
        (SOFT_BOUNCE, SOFT_SUBS[weighted(&SOFT_SUBS.map(|s| s.weight), sub_roll)].code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(records: u64) -> (Arc<Dataset>, Clock, Instant) {
        let now: NaiveDateTime = "2024-05-10T08:40:00".parse().unwrap();
        let t0 = Instant::now();
        (Arc::new(Dataset::generate(records, 5, now, 2).unwrap()), Clock::new(now, t0), t0)
    }

    #[test]
    fn arrivals_follow_the_rate_and_the_clock() {
        let (mut data, clock, t0) = setup(500);
        let live = LiveConfig::off().with_arrivals_per_second(100.0);
        let mut e = Events::new(1, &live, t0);
        e.apply_until(t0 + Duration::from_millis(95), &clock, &mut data, 0);
        assert_eq!(data.len(), 509);
        e.apply_until(t0 + Duration::from_millis(1_000), &clock, &mut data, 3);
        assert_eq!(data.len(), 600);
        let log = e.changes(&data, 0);
        assert_eq!(log.len(), 100);
        assert_eq!((log[8].after_request, log[9].after_request), (0, 3));
        assert_eq!(log[99].at.to_string(), "2024-05-10 08:40:01");
        assert!(log.iter().all(|c| c.kind == ChangeKind::Arrived && c.status_code == SENDING));
        assert_eq!(e.changes(&data, 98).iter().map(|c| c.seq).collect::<Vec<_>>(), [99, 100]);
        let last = data.record(599).unwrap();
        assert_eq!(last.email_id, log[99].email_id);
        assert!(last.request_time <= clock.at(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn settles_pick_sending_rows_deterministically() {
        let run = || {
            let (mut data, clock, t0) = setup(5_000);
            let before = sending_rows(&data).len();
            let live = LiveConfig::off().with_settle_per_second(10.0);
            let mut e = Events::new(1, &live, t0);
            e.apply_until(t0 + Duration::from_secs(2), &clock, &mut data, 0);
            assert_eq!(sending_rows(&data).len(), before - 20);
            e.changes(&data, 0)
        };
        let log = run();
        assert_eq!(log, run());
        assert_eq!(log.len(), 20);
        let ids: std::collections::HashSet<_> = log.iter().map(|c| &c.email_id).collect();
        assert_eq!(ids.len(), 20);
        assert!(log.iter().all(|c| c.kind == ChangeKind::Settled && c.status_code != SENDING));
        assert_eq!(log[19].at.to_string(), "2024-05-10 08:40:02");
    }

    #[test]
    fn nothing_to_settle_is_skipped_cheaply() {
        let (mut data, clock, t0) = setup(0);
        let live = LiveConfig::off().with_settle_per_second(1e9);
        let mut e = Events::new(1, &live, t0);
        e.apply_until(t0 + Duration::from_secs(5), &clock, &mut data, 0);
        assert!(e.changes(&data, 0).is_empty());
        // an arrival, then settles again find something
        let live = LiveConfig::off().with_arrivals_per_second(1.0).with_settle_per_second(1.0);
        e.restart(&live, t0 + Duration::from_secs(5));
        e.apply_until(t0 + Duration::from_secs(6), &clock, &mut data, 0);
        let kinds: Vec<_> = e.changes(&data, 0).iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ChangeKind::Arrived, ChangeKind::Settled]);
    }

    #[test]
    fn outcomes_are_mostly_delivered() {
        let delivered = (0..10_000).filter(|&n| outcome(hash(3, n, SALT_SETTLE)).0 == DELIVERED).count();
        assert!((8_800..9_200).contains(&delivered), "{delivered}");
        let (status, sub) = (0..100).map(|n| outcome(hash(3, n, SALT_SETTLE))).find(|o| o.0 == INVALID).unwrap();
        assert!(status == INVALID && (401..=409).contains(&sub));
    }
}

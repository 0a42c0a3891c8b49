//! The account behind a running server: clock, current records, live events and the day
//! change, under one lock, brought up to date whenever a request or a control call looks.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::NaiveDateTime;

use crate::clock::Clock;
use crate::config::{DayAdvance, LiveConfig};
use crate::dataset::Dataset;
use crate::live::{Change, Events};

/// The account as one request sees it.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// The records (a snapshot: later changes do not show in it).
    pub dataset: Arc<Dataset>,
    /// The server clock.
    pub now: NaiveDateTime,
    /// The live settings.
    pub live: LiveConfig,
    /// Counts [`Account::set_live`] calls: snapshots of older settings must not serve newer.
    pub epoch: u64,
}

/// The shared, changing account.
#[derive(Debug)]
pub(crate) struct Account {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    clock: Clock,
    data: Arc<Dataset>,
    events: Events,
    live: LiveConfig,
    /// When `live` was set.
    since: Instant,
    /// API requests counted so far, and that count when `live` was set.
    requests: u64,
    requests_at_set: u64,
    /// The day change of `live` has happened.
    day_advanced: bool,
    epoch: u64,
}

impl Account {
    /// The account of `dataset`, its clock showing `start` now.
    pub fn new(dataset: Dataset, start: NaiveDateTime, live: LiveConfig, seed: u64) -> Account {
        let now = Instant::now();
        let live = live.normalized();
        let mut data = Arc::new(dataset);
        Arc::make_mut(&mut data).set_order(live.order);
        let inner = Inner {
            clock: Clock::new(start, now),
            events: Events::new(seed, &live, now),
            data,
            live,
            since: now,
            requests: 0,
            requests_at_set: 0,
            day_advanced: false,
            epoch: 0,
        };
        Account { inner: Mutex::new(inner) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the account up to date and returns it; an API request also counts itself (after
    /// any change due so far, so a change logged `after_request: n` is first seen by request
    /// `n + 1`).
    pub fn tick(&self, api_request: bool) -> View {
        let now = Instant::now();
        let mut a = self.lock();
        a.catch_up(now);
        if api_request {
            a.requests += 1;
        }
        View { dataset: Arc::clone(&a.data), now: a.clock.at(now), live: a.live.clone(), epoch: a.epoch }
    }

    /// Replaces the live settings; rates, request counts and durations start from now.
    pub fn set_live(&self, live: LiveConfig) {
        let now = Instant::now();
        let mut a = self.lock();
        a.catch_up(now);
        let live = live.normalized();
        a.events.restart(&live, now);
        if a.data.order() != live.order {
            Arc::make_mut(&mut a.data).set_order(live.order);
        }
        a.live = live;
        a.since = now;
        a.requests_at_set = a.requests;
        a.day_advanced = false;
        a.epoch += 1;
    }

    /// Jumps the clock to the next midnight now; returns the new server time.
    pub fn advance_day(&self) -> NaiveDateTime {
        let now = Instant::now();
        let mut a = self.lock();
        a.catch_up(now);
        a.clock.jump_to_next_midnight(now);
        a.sync_today(now);
        a.clock.at(now)
    }

    /// Changes logged so far (those due now applied first).
    pub fn change_count(&self) -> u64 {
        let now = Instant::now();
        let mut a = self.lock();
        a.catch_up(now);
        a.events.len()
    }

    /// The change log after entry `since`, each change with its record.
    pub fn changes_with_records(&self, since: u64) -> Vec<(Change, crate::dataset::GroundRecord)> {
        let now = Instant::now();
        let mut a = self.lock();
        a.catch_up(now);
        a.events.changes_with_records(&a.data, since)
    }

    /// The change log after entry `since` (0: all of it).
    pub fn changes(&self, since: u64) -> Vec<Change> {
        let now = Instant::now();
        let mut a = self.lock();
        a.catch_up(now);
        a.events.changes(&a.data, since)
    }
}

impl Inner {
    /// Applies the events and the day change due by `now`, in time order.
    fn catch_up(&mut self, now: Instant) {
        if !self.day_advanced {
            let jump_at = match self.live.day_advance {
                DayAdvance::AfterDuration(d) => self.since.checked_add(d).filter(|&j| j <= now),
                DayAdvance::AfterRequests(n) => (self.requests - self.requests_at_set >= n).then_some(now),
                DayAdvance::Never => None,
            };
            if let Some(j) = jump_at {
                // The events due before the jump happen on the old day.
                self.events.apply_until(j, &self.clock, &mut self.data, self.requests);
                self.clock.jump_to_next_midnight(j);
                self.day_advanced = true;
            }
        }
        self.events.apply_until(now, &self.clock, &mut self.data, self.requests);
        self.sync_today(now);
    }

    /// `days=N` and the ground truth count from the clock's date.
    fn sync_today(&mut self, now: Instant) {
        let today = self.clock.at(now).date();
        if self.data.today() != today {
            Arc::make_mut(&mut self.data).set_today(today);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(live: LiveConfig) -> Account {
        let start: NaiveDateTime = "2024-05-10T08:40:00".parse().unwrap();
        Account::new(Dataset::generate(1_000, 1, start, 3).unwrap(), start, live, 1)
    }

    #[test]
    fn day_advances_after_requests_once() {
        let a = account(LiveConfig::off().with_day_advance(DayAdvance::AfterRequests(2)));
        assert_eq!(a.tick(true).now.date().to_string(), "2024-05-10");
        assert_eq!(a.tick(false).now.date().to_string(), "2024-05-10", "control calls do not count");
        assert_eq!(a.tick(true).now.date().to_string(), "2024-05-10");
        let v = a.tick(true);
        assert_eq!(v.now.date().to_string(), "2024-05-11");
        assert_eq!(v.dataset.today().to_string(), "2024-05-11");
        assert!(v.now.time() < chrono::NaiveTime::from_hms_opt(0, 0, 10).unwrap());
        for _ in 0..5 {
            assert_eq!(a.tick(true).now.date().to_string(), "2024-05-11");
        }
        assert_eq!(a.advance_day().to_string(), "2024-05-12 00:00:00");
    }

    #[test]
    fn set_live_changes_order_and_restarts_counts() {
        let a = account(LiveConfig::off());
        let before = a.tick(true).dataset;
        a.set_live(LiveConfig::off().with_order(crate::ResultOrder::NewestFirst));
        assert_eq!(a.tick(false).dataset.order(), crate::ResultOrder::NewestFirst);
        assert_eq!(before.order(), crate::ResultOrder::OldestFirst, "a snapshot keeps its order");
        a.set_live(LiveConfig::off().with_day_advance(DayAdvance::AfterRequests(1)));
        assert_eq!(a.tick(true).now.date().to_string(), "2024-05-10");
        assert_eq!(a.tick(true).now.date().to_string(), "2024-05-11");
        assert!(a.changes(0).is_empty());
    }
}

//! The account's call budget: GCRA (a leaky bucket kept as its level: how far ahead of now the
//! "theoretical arrival time" is).
//!
//! At `rate` calls per minute the emission interval is `T = 60 s / rate`. A burst of
//! `max(rate / 60, 10)` calls (about one second's worth, at least 10) may arrive at once; after
//! that calls are admitted one per `T`. A rejected call does not consume budget. Only calls
//! that passed authentication are counted (the budget is per account, and an unauthenticated
//! call belongs to none).
//!
//! A competing load of share `s` stands for another process calling steadily on the same
//! account at `s × rate`: it keeps that share of every emission interval for itself, so the
//! bucket drains at `1 − s` of real time. The sandbox's callers then sustain `(1 − s) × rate`
//! and still get the full burst after a pause (the other process alone never fills the
//! bucket); at `s = 1` nothing is left for them after the burst.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A GCRA limiter; `None` rate means unlimited.
#[derive(Debug)]
pub(crate) struct Limiter {
    competing_load: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    interval: Duration,
    tolerance: Duration,
    enabled: bool,
    /// Budget in use: the theoretical arrival time minus `at`.
    level: Duration,
    at: Option<Instant>,
}

impl Limiter {
    /// A limiter at `per_minute`, `competing_load` (`0.0..=1.0`) of it used by someone else.
    pub fn new(per_minute: Option<u32>, competing_load: f64) -> Limiter {
        let competing_load = if competing_load > 0.0 { competing_load.min(1.0) } else { 0.0 };
        Limiter { competing_load, state: Mutex::new(State::new(per_minute)) }
    }

    /// Replaces the rate and forgets past calls.
    pub fn set_rate(&self, per_minute: Option<u32>) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::new(per_minute);
    }

    /// Admits (and counts) one call at `now`, or refuses it.
    pub fn admit(&self, now: Instant) -> bool {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *guard;
        if !s.enabled {
            return true;
        }
        let elapsed = s.at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        s.level = s.level.saturating_sub(elapsed.mul_f64(1.0 - self.competing_load));
        s.at = Some(s.at.map_or(now, |at| at.max(now)));
        if s.level > s.tolerance {
            return false;
        }
        s.level += s.interval;
        true
    }
}

impl State {
    fn new(per_minute: Option<u32>) -> State {
        match per_minute.filter(|&r| r > 0) {
            None => State {
                interval: Duration::ZERO,
                tolerance: Duration::ZERO,
                enabled: false,
                level: Duration::ZERO,
                at: None,
            },
            Some(rate) => {
                let interval = Duration::from_secs(60) / rate;
                let burst = (rate / 60).max(10);
                State { interval, tolerance: interval * (burst - 1), enabled: true, level: Duration::ZERO, at: None }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady() {
        let l = Limiter::new(Some(600), 0.0); // 10/s, burst 10
        let t0 = Instant::now();
        assert!((0..10).all(|_| l.admit(t0)));
        assert!(!l.admit(t0));
        assert!(!l.admit(t0 + Duration::from_millis(50)));
        assert!(l.admit(t0 + Duration::from_millis(100)));
        assert!(!l.admit(t0 + Duration::from_millis(110)));
        // after a quiet second the full burst is back
        let t1 = t0 + Duration::from_secs(3);
        assert!((0..10).all(|_| l.admit(t1)));
        assert!(!l.admit(t1));
    }

    #[test]
    fn big_rate_burst_is_one_second() {
        let l = Limiter::new(Some(3000), 0.0);
        let t0 = Instant::now();
        assert_eq!((0..100).filter(|_| l.admit(t0)).count(), 50);
    }

    #[test]
    fn off() {
        let l = Limiter::new(None, 0.0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| l.admit(t0)));
        l.set_rate(Some(60));
        assert_eq!((0..100).filter(|_| l.admit(t0)).count(), 10);
    }

    /// Calls admitted when trying every millisecond for `secs` after a burst at `t0`.
    fn sustained(l: &Limiter, t0: Instant, secs: u64) -> usize {
        (1..=secs * 1000).filter(|&ms| l.admit(t0 + Duration::from_millis(ms))).count()
    }

    #[test]
    fn competing_load_takes_its_share_of_the_rate() {
        let t0 = Instant::now();
        let alone = Limiter::new(Some(600), 0.0);
        let shared = Limiter::new(Some(600), 0.25);
        let full = Limiter::new(Some(600), 1.0);
        for l in [&alone, &shared, &full] {
            assert_eq!((0..20).filter(|_| l.admit(t0)).count(), 10, "the burst stays");
        }
        assert_eq!(sustained(&alone, t0, 20), 200);
        let n = sustained(&shared, t0, 20);
        assert!((148..=151).contains(&n), "{n}");
        assert_eq!(sustained(&full, t0, 20), 0);
    }
}

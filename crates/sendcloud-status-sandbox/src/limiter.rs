//! The account's call budget: GCRA (a leaky bucket kept as one "theoretical arrival time").
//!
//! At `rate` calls per minute the emission interval is `T = 60 s / rate`. A burst of
//! `max(rate / 60, 10)` calls (about one second's worth, at least 10) may arrive at once; after
//! that calls are admitted one per `T`. A rejected call does not consume budget. Only calls
//! that passed authentication are counted (the budget is per account, and an unauthenticated
//! call belongs to none).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A GCRA limiter; `None` rate means unlimited.
#[derive(Debug)]
pub(crate) struct Limiter {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    interval: Duration,
    tolerance: Duration,
    enabled: bool,
    tat: Option<Instant>,
}

impl Limiter {
    pub fn new(per_minute: Option<u32>) -> Limiter {
        Limiter { state: Mutex::new(State::new(per_minute)) }
    }

    /// Replaces the rate and forgets past calls.
    pub fn set_rate(&self, per_minute: Option<u32>) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::new(per_minute);
    }

    /// Admits (and counts) one call at `now`, or refuses it.
    pub fn admit(&self, now: Instant) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !s.enabled {
            return true;
        }
        let tat = s.tat.map_or(now, |t| t.max(now));
        if tat.duration_since(now) > s.tolerance {
            return false;
        }
        s.tat = Some(tat + s.interval);
        true
    }
}

impl State {
    fn new(per_minute: Option<u32>) -> State {
        match per_minute.filter(|&r| r > 0) {
            None => State { interval: Duration::ZERO, tolerance: Duration::ZERO, enabled: false, tat: None },
            Some(rate) => {
                let interval = Duration::from_secs(60) / rate;
                let burst = (rate / 60).max(10);
                State { interval, tolerance: interval * (burst - 1), enabled: true, tat: None }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady() {
        let l = Limiter::new(Some(600)); // 10/s, burst 10
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
        let l = Limiter::new(Some(3000));
        let t0 = Instant::now();
        assert_eq!((0..100).filter(|_| l.admit(t0)).count(), 50);
    }

    #[test]
    fn off() {
        let l = Limiter::new(None);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| l.admit(t0)));
        l.set_rate(Some(60));
        assert_eq!((0..100).filter(|_| l.admit(t0)).count(), 10);
    }
}

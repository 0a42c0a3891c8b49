//! Client-side rate limiting: a GCRA limiter that answers "go" or "wait
//! until", shared by every request of an account, at the rate its
//! [`Throughput`] controller decides (never above the configured ceiling).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, ValidationReason};
use crate::settings;
use crate::throughput::{Outcome, Throughput, ThroughputState};

/// The documented account limit: 3000 calls per minute.
pub use crate::settings::DEFAULT_REQUESTS_PER_MINUTE;

/// A request rate: `per_minute` sustained, with bursts of up to `burst`
/// requests back to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    per_minute: u32,
    burst: u32,
}

impl RateLimit {
    /// A rate of `per_minute` requests per minute (at least 1), with a
    /// burst of a tenth of a second's worth (5 at 3000/min, at least 1).
    /// The burst lets a driver that woke up late catch up instead of losing
    /// the time; over any minute at most `per_minute + burst − 1` requests
    /// go out.
    pub fn per_minute(per_minute: u32) -> Result<Self> {
        Self::per_minute_or_off(per_minute)?.ok_or_else(|| {
            Error::invalid_value("rate_limit_per_minute", ValidationReason::OutOfRange, "must be at least 1, got 0")
        })
    }

    /// The `rate_limit_per_minute` setting, with the one meaning every
    /// surface gives it: 0 turns client-side pacing off (`None`), any
    /// other number is that rate ([`settings::RATE_LIMIT_PER_MINUTE`]).
    pub fn per_minute_or_off(per_minute: u32) -> Result<Option<Self>> {
        settings::RATE_LIMIT_PER_MINUTE.check_unsigned("rate_limit_per_minute", u64::from(per_minute))?;
        Ok((per_minute > 0).then(|| RateLimit { per_minute, burst: default_burst(per_minute) }))
    }

    /// Allows `burst` requests back to back (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// Requests per minute.
    pub fn requests_per_minute(&self) -> u32 {
        self.per_minute
    }

    /// The spacing between requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { per_minute: DEFAULT_REQUESTS_PER_MINUTE, burst: default_burst(DEFAULT_REQUESTS_PER_MINUTE) }
    }
}

fn default_burst(per_minute: u32) -> u32 {
    (per_minute / 600).max(1)
}

/// Generic cell rate algorithm: one timestamp of state, no timers.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sendcloud_status_core::{RateLimit, RateLimiter};
/// let mut lim = RateLimiter::new(Some(RateLimit::per_minute(600).unwrap()));
/// let t0 = Instant::now();
/// assert!(lim.try_acquire(t0).is_ok());
/// assert_eq!(lim.try_acquire(t0), Err(t0 + Duration::from_millis(100)));
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    /// The ceiling and burst as configured.
    limit: Option<RateLimit>,
    /// Theoretical arrival time of the next request.
    tat: Option<Instant>,
    /// Decides the rate below the ceiling and the requests in flight.
    throughput: Throughput,
}

impl RateLimiter {
    /// A limiter with `limit` as its ceiling; `None` sets no client-side
    /// rate until the server throttles (and waits after
    /// [`RateLimiter::pause_until`]).
    pub fn new(limit: Option<RateLimit>) -> Self {
        RateLimiter { limit, tat: None, throughput: Throughput::new(limit.map(|l| l.per_minute)) }
    }

    /// The configured ceiling.
    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Feeds an answer to the throughput controller: sent at `sent`,
    /// answered at `now`.
    pub fn observe(&mut self, sent: Instant, now: Instant, outcome: Outcome) {
        self.throughput.observe(sent, now, outcome);
    }

    /// Requests an automatic export may keep in flight now.
    pub fn in_flight_limit(&self, now: Instant) -> usize {
        self.throughput.in_flight_limit(now)
    }

    /// The controller's current decisions.
    pub fn throughput(&self, now: Instant) -> ThroughputState {
        self.throughput.state(now)
    }

    /// Wraps the limiter for sharing between threads and exports.
    pub fn shared(self) -> SharedLimiter {
        Arc::new(Mutex::new(self))
    }

    /// Takes a slot now, or says when one will be free.
    pub fn try_acquire(&mut self, now: Instant) -> std::result::Result<(), Instant> {
        let Some(rate) = self.throughput.rate_per_second(now) else {
            // No client-side rate, but a pause after a rate-limit answer
            // still holds (see `pause_until`).
            return match self.tat {
                Some(t) if t > now => Err(t),
                _ => Ok(()),
            };
        };
        let interval = Duration::from_secs_f64(1.0 / rate);
        let burst = self.limit.map_or_else(|| default_burst((rate * 60.0) as u32), |l| l.burst);
        let tolerance = interval * (burst - 1);
        let tat = self.tat.map_or(now, |t| t.max(now));
        if tat > now + tolerance {
            return Err(tat - tolerance);
        }
        self.tat = Some(tat + interval);
        Ok(())
    }

    /// Holds every request back until `until` (after a rate-limit answer:
    /// the server is telling us the account is over its limit).
    ///
    /// Nothing goes out before `until`, and then no burst: one request,
    /// then the sustained rate.
    pub fn pause_until(&mut self, until: Instant) {
        let tolerance = self.throughput.rate_per_second(until).map_or(Duration::ZERO, |rate| {
            let burst = self.limit.map_or_else(|| default_burst((rate * 60.0) as u32), |l| l.burst);
            Duration::from_secs_f64(1.0 / rate) * (burst - 1)
        });
        let resume = until + tolerance;
        self.tat = Some(self.tat.map_or(resume, |t| t.max(resume)));
    }
}

/// A limiter shared by the requests of one client.
pub type SharedLimiter = Arc<Mutex<RateLimiter>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sustained_rate_and_burst() {
        let t0 = Instant::now();
        let mut lim = RateLimiter::new(Some(RateLimit::per_minute(60).unwrap().with_burst(3)));
        for _ in 0..3 {
            assert!(lim.try_acquire(t0).is_ok());
        }
        let wait = lim.try_acquire(t0).unwrap_err();
        assert_eq!(wait, t0 + Duration::from_secs(1));
        assert!(lim.try_acquire(wait).is_ok());
        // Over a long run the rate converges to 1/s.
        let mut now = wait;
        let mut sent = 0;
        while now < wait + Duration::from_secs(100) {
            match lim.try_acquire(now) {
                Ok(()) => sent += 1,
                Err(t) => now = t,
            }
        }
        assert!((99..=101).contains(&sent), "{sent}");
    }

    #[test]
    fn unlimited_never_waits_and_pause_holds() {
        let t0 = Instant::now();
        let mut lim = RateLimiter::new(None);
        assert!((0..10_000).all(|_| lim.try_acquire(t0).is_ok()));
        let mut lim = RateLimiter::new(Some(RateLimit::default()));
        lim.pause_until(t0 + Duration::from_secs(2));
        assert_eq!(lim.try_acquire(t0), Err(t0 + Duration::from_secs(2)));
        assert!(RateLimit::per_minute(0).is_err());
    }
}

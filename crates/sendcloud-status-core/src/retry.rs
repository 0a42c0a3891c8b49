//! Retry decisions: which failures to retry, how long to wait (exponential
//! backoff with full jitter from an injected seed), and when to give up.

use std::time::Duration;

use crate::error::ErrorKind;

/// How failed requests are retried.
///
/// Retried: rate limiting (`50000`, HTTP 429), server faults (`501`, HTTP
/// 5xx), transport failures and undecodable (truncated) bodies. Never
/// retried: validation, authentication, quota and other API errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff base for server and transport faults.
    pub base_delay: Duration,
    /// Backoff base after a rate-limit answer (longer: the limit is per
    /// minute).
    pub rate_limit_base_delay: Duration,
    /// Upper bound of any one wait.
    pub max_delay: Duration,
    /// Give up on a request once this long has passed since its first
    /// attempt.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: crate::settings::DEFAULT_MAX_RETRIES + 1,
            base_delay: Duration::from_millis(200),
            rate_limit_base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// The wait before attempt number `failed_attempts + 1`, with full
    /// jitter: uniform in `[0, min(max_delay, base · 2^(failed_attempts−1))]`,
    /// drawn from `random`.
    pub fn backoff(&self, failed_attempts: u32, kind: ErrorKind, random: u64) -> Duration {
        let base = if kind == ErrorKind::RateLimited { self.rate_limit_base_delay } else { self.base_delay };
        let exp = failed_attempts.saturating_sub(1).min(30);
        let cap = base.saturating_mul(1u32 << exp).min(self.max_delay);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        // Rate-limit answers wait at least half the cap: an immediate retry
        // would only be refused again.
        let floor_ms = if kind == ErrorKind::RateLimited { cap_ms / 2 } else { 0 };
        let span = cap_ms - floor_ms;
        Duration::from_millis(floor_ms + if span == 0 { 0 } else { random % (span + 1) })
    }
}

/// A small deterministic generator (SplitMix64) for jitter. The seed comes
/// from the caller, so runs are reproducible under test.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Jitter(seed)
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        let mut j = Jitter::new(7);
        for attempt in 1..12 {
            let cap = (p.base_delay * (1 << (attempt - 1).min(30))).min(p.max_delay);
            for _ in 0..50 {
                let d = p.backoff(attempt, ErrorKind::Server, j.next_u64());
                assert!(d <= cap, "{d:?} > {cap:?}");
            }
        }
        assert_eq!(p.backoff(1, ErrorKind::Server, 0), Duration::ZERO);
        assert_eq!(p.backoff(1, ErrorKind::Server, 200), Duration::from_millis(200));
        let rl = p.backoff(1, ErrorKind::RateLimited, 0);
        assert_eq!(rl, Duration::from_millis(500));
        assert!(p.backoff(40, ErrorKind::RateLimited, u64::MAX) <= p.max_delay);
    }

    #[test]
    fn jitter_is_deterministic_per_seed() {
        let a: Vec<u64> = (0..5).scan(Jitter::new(1), |j, _| Some(j.next_u64())).collect();
        let b: Vec<u64> = (0..5).scan(Jitter::new(1), |j, _| Some(j.next_u64())).collect();
        let c: Vec<u64> = (0..5).scan(Jitter::new(2), |j, _| Some(j.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

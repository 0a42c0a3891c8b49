//! Per-request fault draws: seeded, decided before a request is handled.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::FaultConfig;
use crate::rng::{hash, unit};

/// A fault the sandbox injected into one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// The documented 50000 body although the limiter had room.
    RateLimited,
    /// HTTP 502 with an HTML page.
    Http502,
    /// The connection was closed without a response.
    Reset,
    /// Full `Content-Length`, half the body, then the connection was closed.
    Truncated,
    /// The normal answer, after `slow_delay`.
    Slow,
}

/// The current fault configuration and the request counter its draws are keyed on.
#[derive(Debug)]
pub(crate) struct Faults {
    config: RwLock<FaultConfig>,
    seq: AtomicU64,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        Faults { config: RwLock::new(config), seq: AtomicU64::new(0) }
    }

    /// Replaces the configuration and restarts the draw sequence.
    pub fn set(&self, config: FaultConfig) {
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
        self.seq.store(0, Ordering::SeqCst);
    }

    /// Draws the fault of the next request, with the delay a `Slow` fault waits.
    pub fn draw(&self) -> (Option<FaultKind>, std::time::Duration) {
        let c = self.config.read().unwrap_or_else(|e| e.into_inner());
        if c.is_none() {
            return (None, c.slow_delay);
        }
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let u = unit(hash(c.seed, n, 0xFA17));
        let mut edge = 0.0;
        let table = [
            (c.rate_limited, FaultKind::RateLimited),
            (c.http_502, FaultKind::Http502),
            (c.reset, FaultKind::Reset),
            (c.truncated, FaultKind::Truncated),
            (c.slow, FaultKind::Slow),
        ];
        for (p, kind) in table {
            edge += p.max(0.0);
            if u < edge {
                return (Some(kind), c.slow_delay);
            }
        }
        (None, c.slow_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_proportional() {
        let f = Faults::new(FaultConfig::none().with_seed(9).with_http_502(0.2).with_reset(0.1));
        let a: Vec<_> = (0..2000).map(|_| f.draw().0).collect();
        f.set(FaultConfig::none().with_seed(9).with_http_502(0.2).with_reset(0.1));
        let b: Vec<_> = (0..2000).map(|_| f.draw().0).collect();
        assert_eq!(a, b);
        let n502 = a.iter().filter(|k| **k == Some(FaultKind::Http502)).count();
        let nreset = a.iter().filter(|k| **k == Some(FaultKind::Reset)).count();
        assert!((330..470).contains(&n502), "{n502}");
        assert!((150..250).contains(&nreset), "{nreset}");
        f.set(FaultConfig::none().with_truncated(1.0));
        assert_eq!(f.draw().0, Some(FaultKind::Truncated));
    }
}

//! The tokens stored recently, to answer most repeats without the writer.
//! Only tokens younger than the tolerance matter (older events fail the age
//! check before the token is looked at), so the set is pruned by age.

use std::collections::HashMap;
use std::sync::Mutex;

use sendcloud_status::core::webhook::SeenTokens;

/// Pruning starts above this many tokens.
const PRUNE_ABOVE: usize = 4096;

#[derive(Debug)]
pub(crate) struct RecentTokens {
    tolerance_ms: i64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Token → its event's time (Unix ms).
    tokens: HashMap<String, i64>,
    /// Size after the last pruning: prune again when it doubles.
    after_prune: usize,
}

impl RecentTokens {
    pub fn new(tolerance_ms: i64) -> RecentTokens {
        RecentTokens { tolerance_ms, inner: Mutex::new(Inner::default()) }
    }

    /// Remembers a token whose event happened at `event_ms`.
    pub fn insert(&self, token: &str, event_ms: i64, now_ms: i64) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.tokens.insert(token.to_owned(), event_ms);
        if g.tokens.len() > PRUNE_ABOVE.max(2 * g.after_prune) {
            let tolerance = self.tolerance_ms;
            g.tokens.retain(|_, t| now_ms.saturating_sub(*t).abs() <= tolerance);
            g.after_prune = g.tokens.len();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).tokens.len()
    }
}

impl SeenTokens for RecentTokens {
    fn contains_token(&self, token: &str) -> bool {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).tokens.contains_key(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_tokens_are_pruned_and_recent_ones_kept() {
        let t = RecentTokens::new(1_000);
        for i in 0..PRUNE_ABOVE {
            t.insert(&format!("old{i}"), 0, 0);
        }
        t.insert("new", 10_000, 10_000);
        assert_eq!(t.len(), 1, "the old ones were past the tolerance");
        assert!(t.contains_token("new"));
        assert!(!t.contains_token("old1"));
    }
}

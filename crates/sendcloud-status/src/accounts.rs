//! One budget per account per process: clients (and so exports) that talk
//! to the same endpoint as the same apiUser, with the same ceiling, share
//! one limiter and throughput controller, so two concurrent exports do not
//! double the rate. Only the endpoint URL and the apiUser name an account
//! here; the key is never stored.
//!
//! Several processes on one account share the server's limit too, which no
//! process can see: their controllers back off from the `50000` answers the
//! others cause.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, Weak};

use sendcloud_status_core::{RateLimit, RateLimiter, SharedLimiter};

type Key = (String, String, Option<RateLimit>);

fn registry() -> &'static Mutex<HashMap<Key, Weak<Mutex<RateLimiter>>>> {
    static ACCOUNTS: OnceLock<Mutex<HashMap<Key, Weak<Mutex<RateLimiter>>>>> = OnceLock::new();
    ACCOUNTS.get_or_init(Default::default)
}

/// The shared limiter of `(endpoint_url, api_user)` at `ceiling`, made on
/// first use and kept while a client holds it.
pub(crate) fn limiter(endpoint_url: &str, api_user: &str, ceiling: Option<RateLimit>) -> SharedLimiter {
    // A poisoned registry only means another thread panicked while looking
    // up; the map itself is always whole, so use it.
    let mut accounts = registry().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    accounts.retain(|_, limiter| limiter.strong_count() > 0);
    let key = (endpoint_url.to_owned(), api_user.to_owned(), ceiling);
    if let Some(shared) = accounts.get(&key).and_then(Weak::upgrade) {
        return shared;
    }
    let shared = RateLimiter::new(ceiling).shared();
    accounts.insert(key, std::sync::Arc::downgrade(&shared));
    shared
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn one_limiter_per_account_and_ceiling_while_in_use() {
        let ceiling = Some(RateLimit::default());
        let a = limiter("https://h/api/data/emailStatus", "acct-a", ceiling);
        let b = limiter("https://h/api/data/emailStatus", "acct-a", ceiling);
        assert!(Arc::ptr_eq(&a, &b), "same account, same budget");
        let other_user = limiter("https://h/api/data/emailStatus", "acct-b", ceiling);
        let other_host = limiter("https://g/api/data/emailStatus", "acct-a", ceiling);
        let other_ceiling = limiter("https://h/api/data/emailStatus", "acct-a", None);
        for other in [&other_user, &other_host, &other_ceiling] {
            assert!(!Arc::ptr_eq(&a, other));
        }
        // Once every client let go, a new client starts afresh.
        let weak = Arc::downgrade(&a);
        drop((a, b));
        assert!(weak.upgrade().is_none());
    }
}

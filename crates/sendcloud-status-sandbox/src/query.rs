//! The server's query path: a validated [`Query`] → the matching records, per the cache model.
//!
//! With [`CacheModel::Snapshot`] (the real server caches a parameter set's result for 10
//! minutes) the result of a parameter set — everything but `start`/`limit` — is computed once:
//! its matching indices and the records as they were are kept in a small LRU for the ttl, so
//! every page of the set reads that one snapshot and paging through a big result costs one
//! scan. With [`CacheModel::PerRequest`] every request scans the live records.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::account::View;
use crate::catalog::API_USERS;
use crate::config::{CacheModel, ResultOrder};
use crate::dataset::Dataset;
use crate::validate::{LabelSel, Query};

/// Entries kept in the LRU.
const CACHE_ENTRIES: usize = 32;

/// A parameter set without `start`/`limit`: what a snapshot is kept for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    /// The live settings' epoch: a request racing a settings change cannot leave a snapshot
    /// of the old settings for later requests.
    epoch: u64,
    first: NaiveDate,
    last: NaiveDate,
    status: Option<u8>,
    /// Sorted, deduplicated.
    subs: Vec<u16>,
    /// Lower-cased.
    email: Option<String>,
    /// Sorted, deduplicated.
    email_ids: Vec<String>,
    label: LabelSel,
    users: u8,
}

impl Key {
    fn of(q: &Query, epoch: u64) -> Key {
        let mut subs = q.subs.clone();
        subs.sort_unstable();
        subs.dedup();
        let mut email_ids = q.email_ids.clone();
        email_ids.sort_unstable();
        email_ids.dedup();
        Key {
            epoch,
            first: q.first,
            last: q.last,
            status: q.status,
            subs,
            email: q.email.as_ref().map(|e| e.to_ascii_lowercase()),
            email_ids,
            label: q.label.clone(),
            users: q.users,
        }
    }
}

/// A query reduced to integers over one dataset.
#[derive(Debug, Clone)]
struct Plan {
    lo: usize,
    hi: usize,
    status: Option<u8>,
    subs: Vec<u16>,
    /// `Some(None)`: an address that is not in the pool, so nothing matches.
    recipient: Option<Option<u32>>,
    /// Sorted record indices of the requested emailIds.
    ids: Option<Vec<usize>>,
    labels: Option<u8>,
    users: u8,
}

/// Matching record indices, oldest first.
#[derive(Debug, Clone)]
pub(crate) enum Hits {
    Range(std::ops::Range<usize>),
    List(Arc<Vec<u32>>),
}

impl Hits {
    pub fn len(&self) -> usize {
        match self {
            Hits::Range(r) => r.len(),
            Hits::List(l) => l.len(),
        }
    }
    /// Record indices of the page `[start, start + limit)` of the hits in `order`.
    pub fn page(&self, start: u64, limit: u64, order: ResultOrder) -> Vec<usize> {
        let len = self.len();
        let from = usize::try_from(start).unwrap_or(usize::MAX).min(len);
        let to = from.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(len);
        (from..to)
            .map(|p| match order {
                ResultOrder::OldestFirst => p,
                ResultOrder::NewestFirst => len - 1 - p,
            })
            .map(|k| match self {
                Hits::Range(r) => r.start + k,
                Hits::List(l) => l[k] as usize,
            })
            .collect()
    }
}

/// A parameter set's result: the records it was computed on and the matching indices.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub dataset: Arc<Dataset>,
    pub hits: Hits,
}

#[derive(Debug)]
struct Entry {
    key: Key,
    taken: Instant,
    found: Found,
}

/// Small LRU of snapshots per parameter set.
#[derive(Debug, Default)]
pub(crate) struct QueryCache {
    entries: Mutex<VecDeque<Entry>>,
}

impl QueryCache {
    /// The result of `q` in `view`: a snapshot younger than its ttl, or a scan of the records.
    pub fn run(&self, view: &View, q: &Query, now: Instant) -> Found {
        let live = &view.dataset;
        let ttl = match view.live.cache {
            CacheModel::Snapshot { ttl } => ttl,
            CacheModel::PerRequest => return found(live, q),
        };
        let key = Key::of(q, view.epoch);
        if let Some(hit) = self.fresh(&key, now, ttl) {
            return hit;
        }
        let result = found(live, q);
        // A request racing on the same set may have stored its snapshot meanwhile; every page
        // must read one snapshot, so the first one stored wins.
        if let Some(hit) = self.fresh(&key, now, ttl) {
            return hit;
        }
        let mut entries = self.lock();
        // Expired snapshots can no longer serve, and each may pin a copy of changed records.
        entries.retain(|e| e.key != key && now.saturating_duration_since(e.taken) < ttl);
        entries.push_front(Entry { key, taken: now, found: result.clone() });
        entries.truncate(CACHE_ENTRIES);
        result
    }

    /// Forgets every snapshot.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The snapshot of `key` if younger than `ttl`, moved to the front.
    fn fresh(&self, key: &Key, now: Instant, ttl: Duration) -> Option<Found> {
        let mut entries = self.lock();
        let pos = entries.iter().position(|e| &e.key == key && now.saturating_duration_since(e.taken) < ttl)?;
        let entry = entries.remove(pos)?;
        let hit = entry.found.clone();
        entries.push_front(entry);
        Some(hit)
    }
}

/// One scan of `ds` for `q`.
fn found(ds: &Arc<Dataset>, q: &Query) -> Found {
    let plan = plan(ds, q);
    let all_users = (1u8 << API_USERS.len()) - 1;
    let unfiltered = plan.status.is_none()
        && plan.subs.is_empty()
        && plan.recipient.is_none()
        && plan.ids.is_none()
        && plan.labels.is_none()
        && plan.users & all_users == all_users;
    let hits = if unfiltered { Hits::Range(plan.lo..plan.hi) } else { Hits::List(Arc::new(scan(ds, &plan))) };
    Found { dataset: Arc::clone(ds), hits }
}

fn plan(ds: &Dataset, q: &Query) -> Plan {
    let range = ds.date_range(q.first, q.last);
    let mut subs = q.subs.clone();
    subs.sort_unstable();
    subs.dedup();
    let ids = (!q.email_ids.is_empty()).then(|| {
        let mut v: Vec<usize> = q.email_ids.iter().filter_map(|id| ds.locate_email_id(id)).collect();
        v.sort_unstable();
        v.dedup();
        v
    });
    Plan {
        lo: range.start,
        hi: range.end,
        status: q.status,
        subs,
        recipient: q.email.as_ref().map(|e| ds.recipient_index(e)),
        ids,
        labels: match q.label {
            LabelSel::Any => None,
            LabelSel::Mask(m) => Some(m),
        },
        users: q.users,
    }
}

fn scan(ds: &Dataset, p: &Plan) -> Vec<u32> {
    let keep = |i: usize| {
        let r = ds.rec(i);
        p.status.is_none_or(|s| s == r.status)
            && (p.subs.is_empty() || (r.sub != 0 && p.subs.binary_search(&r.sub).is_ok()))
            && p.recipient.is_none_or(|want| want == Some(r.recipient))
            && p.labels.is_none_or(|m| m & (1 << r.label) != 0)
            && p.users & (1 << r.api_user) != 0
    };
    match &p.ids {
        Some(ids) => ids.iter().copied().filter(|&i| i >= p.lo && i < p.hi && keep(i)).map(|i| i as u32).collect(),
        None => (p.lo..p.hi).filter(|&i| keep(i)).map(|i| i as u32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LiveConfig;
    use crate::validate::{self, Params};
    use chrono::NaiveDateTime;

    #[test]
    fn snapshots_serve_within_their_ttl_and_epoch_only() {
        let now: NaiveDateTime = "2024-05-10T08:40:00".parse().unwrap();
        let old = Arc::new(Dataset::generate(1_000, 1, now, 3).unwrap());
        let mut grown = (*old).clone();
        grown.arrive(u64::try_from(grown.offset_of(now)).unwrap(), 5);
        let grown = Arc::new(grown);
        let all = API_USERS.map(|u| u.0).join(";");
        let params = Params(vec![("days".into(), "1".into()), ("apiUserList".into(), all)]);
        let q = validate::validate(&params, now.date(), 3).unwrap();
        let view = |dataset: &Arc<Dataset>, epoch, cache| View {
            dataset: Arc::clone(dataset),
            now,
            live: LiveConfig::off().with_cache(cache),
            epoch,
        };
        let snapshot = CacheModel::Snapshot { ttl: Duration::from_secs(10) };
        let (cache, t0) = (QueryCache::default(), Instant::now());

        let first = cache.run(&view(&old, 0, snapshot), &q, t0);
        let within = cache.run(&view(&grown, 0, snapshot), &q, t0 + Duration::from_secs(9));
        assert!(Arc::ptr_eq(&within.dataset, &old) && within.hits.len() == first.hits.len());
        let later = cache.run(&view(&grown, 0, snapshot), &q, t0 + Duration::from_secs(10));
        assert!(Arc::ptr_eq(&later.dataset, &grown) && later.hits.len() == first.hits.len() + 1);
        let next_epoch = cache.run(&view(&old, 1, snapshot), &q, t0 + Duration::from_secs(11));
        assert!(Arc::ptr_eq(&next_epoch.dataset, &old), "another epoch takes its own snapshot");
        let live = cache.run(&view(&grown, 1, CacheModel::PerRequest), &q, t0 + Duration::from_secs(11));
        assert!(Arc::ptr_eq(&live.dataset, &grown));

        let page = |order| later.hits.page(0, 3, order);
        let n = later.hits.len();
        let last = |k: usize| later.hits.page((n - 1 - k) as u64, 1, ResultOrder::OldestFirst)[0];
        assert_eq!(page(ResultOrder::NewestFirst), [last(0), last(1), last(2)]);
    }
}

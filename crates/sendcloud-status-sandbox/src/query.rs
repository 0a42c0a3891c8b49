//! The server's query path: a validated [`Query`] → the matching record indices, cached.
//!
//! Like the real server (which caches a parameter set's result for 10 minutes), the index list
//! of a parameter set is kept in a small LRU, so paging through a big result costs one scan.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::catalog::API_USERS;
use crate::dataset::Dataset;
use crate::validate::{LabelSel, Query};

/// Entries kept in the LRU.
const CACHE_ENTRIES: usize = 32;

/// A query reduced to integers: the cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// Matching record indices, in server order.
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
    /// Indices of the page `[start, start + limit)`.
    pub fn page(&self, start: u64, limit: u64) -> Vec<usize> {
        let from = usize::try_from(start).unwrap_or(usize::MAX).min(self.len());
        let to = from.saturating_add(limit as usize).min(self.len());
        match self {
            Hits::Range(r) => (r.start + from..r.start + to).collect(),
            Hits::List(l) => l[from..to].iter().map(|&i| i as usize).collect(),
        }
    }
}

/// Small LRU of index lists per plan.
#[derive(Debug, Default)]
pub(crate) struct QueryCache {
    entries: Mutex<VecDeque<(Plan, Arc<Vec<u32>>)>>,
}

impl QueryCache {
    /// The hits of `q`, from the cache or one scan of its date window.
    pub fn run(&self, ds: &Dataset, q: &Query) -> Hits {
        let plan = plan(ds, q);
        let all_users = (1u8 << API_USERS.len()) - 1;
        let unfiltered = plan.status.is_none()
            && plan.subs.is_empty()
            && plan.recipient.is_none()
            && plan.ids.is_none()
            && plan.labels.is_none()
            && plan.users & all_users == all_users;
        if unfiltered {
            return Hits::Range(plan.lo..plan.hi);
        }
        if let Some(hit) = self.lookup(&plan) {
            return Hits::List(hit);
        }
        let list = Arc::new(scan(ds, &plan));
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.push_front((plan, Arc::clone(&list)));
        entries.truncate(CACHE_ENTRIES);
        Hits::List(list)
    }

    fn lookup(&self, plan: &Plan) -> Option<Arc<Vec<u32>>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let pos = entries.iter().position(|(p, _)| p == plan)?;
        let entry = entries.remove(pos)?;
        let hit = Arc::clone(&entry.1);
        entries.push_front(entry);
        Some(hit)
    }
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

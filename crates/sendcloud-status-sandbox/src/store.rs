//! Record storage for a changing account: fixed-size chunks behind `Arc`s.
//!
//! A snapshot is a clone of the chunk list (one reference count per chunk, no record copied),
//! and a change copies only the chunk it touches while an older snapshot still reads it
//! (copy-on-write). So the server can hand every request and every cached result its own
//! consistent view of a million records while new mail arrives and rows settle.

use std::sync::Arc;

const SHIFT: u32 = 12;
/// Records per chunk: small enough that a copy-on-write is cheap, big enough that a million
/// records are a few hundred chunks.
const CHUNK: usize = 1 << SHIFT;
const MASK: usize = CHUNK - 1;

/// An append-only, indexable sequence stored in shared chunks.
#[derive(Clone, Debug)]
pub(crate) struct Store<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store { chunks: Vec::new(), len: 0 }
    }
}

impl<T: Clone> Store<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        self.chunks[i >> SHIFT].get(i & MASK)
    }

    /// The last item, if any.
    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Mutable access; copies the item's chunk first if a snapshot shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        Arc::make_mut(&mut self.chunks[i >> SHIFT]).get_mut(i & MASK)
    }

    /// Appends one item (copying the last chunk first if a snapshot shares it).
    pub fn push(&mut self, item: T) {
        if self.len & MASK == 0 {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        if let Some(last) = self.chunks.last_mut() {
            Arc::make_mut(last).push(item);
            self.len += 1;
        }
    }

    /// The first index whose item fails `pred`, for items partitioned by it (all `true` first).
    pub fn partition_point(&self, pred: impl Fn(&T) -> bool) -> usize {
        // First the chunk, by its last item; then inside it.
        let c = self.chunks.partition_point(|c| c.last().is_some_and(&pred));
        match self.chunks.get(c) {
            None => self.len,
            Some(chunk) => (c << SHIFT) + chunk.partition_point(&pred),
        }
    }
}

impl<T: Clone> FromIterator<T> for Store<T> {
    /// Fills whole chunks directly (no per-item copy-on-write check).
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut store = Store::default();
        let mut chunk = Vec::with_capacity(CHUNK);
        for item in iter {
            chunk.push(item);
            if chunk.len() == CHUNK {
                store.len += CHUNK;
                store.chunks.push(Arc::new(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))));
            }
        }
        if !chunk.is_empty() {
            store.len += chunk.len();
            store.chunks.push(Arc::new(chunk));
        }
        store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_push_and_search() {
        let n = 3 * CHUNK + 17;
        let mut s: Store<usize> = (0..n).map(|i| i * 2).collect();
        assert_eq!(s.len(), n);
        assert_eq!(s.get(CHUNK), Some(&(CHUNK * 2)));
        assert_eq!(s.get(n), None);
        assert_eq!(s.last(), Some(&((n - 1) * 2)));
        for probe in [0, 1, CHUNK * 2 - 1, CHUNK * 2, CHUNK * 2 + 1, n * 2 - 2, n * 2, n * 3] {
            assert_eq!(s.partition_point(|&v| v < probe), (0..n).filter(|i| i * 2 < probe).count(), "{probe}");
        }
        for i in n..2 * CHUNK * 2 {
            s.push(i * 2);
        }
        assert_eq!(s.len(), 4 * CHUNK);
        assert_eq!(s.get(4 * CHUNK - 1), Some(&((4 * CHUNK - 1) * 2)));
        assert_eq!(Store::<u8>::default().partition_point(|_| true), 0);
    }

    #[test]
    fn snapshots_are_copy_on_write() {
        let mut live: Store<u32> = (0..(2 * CHUNK as u32)).collect();
        let snapshot = live.clone();
        *live.get_mut(5).unwrap() = 99;
        live.push(7);
        assert_eq!(snapshot.get(5), Some(&5));
        assert_eq!(snapshot.len(), 2 * CHUNK);
        assert_eq!(live.get(5), Some(&99));
        assert_eq!(live.len(), 2 * CHUNK + 1);
        // the untouched chunk is still shared
        assert!(Arc::ptr_eq(&live.chunks[1], &snapshot.chunks[1]));
        assert!(!Arc::ptr_eq(&live.chunks[0], &snapshot.chunks[0]));
    }
}

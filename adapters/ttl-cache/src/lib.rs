//! A bounded in-memory cache whose entries go stale after a TTL but are kept, so that a stale
//! answer can still be served while the service behind it is down (degraded mode). Shared by
//! the HTTP adapters (community service, auth service).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// What the cache knows of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached<V> {
    /// Stored less than a TTL ago: use it without asking.
    Fresh(V),
    /// Older than the TTL: ask again, and fall back to it only if asking fails.
    Stale(V),
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    stored_at: Instant,
}

/// Key to value with a TTL and a bound on the number of entries.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K: Eq + Hash + Copy, V: Clone> TtlCache<K, V> {
    /// An empty cache; `capacity` is at least one.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<Cached<V>> {
        let entries = self.lock();
        let entry = entries.get(key)?;
        let value = entry.value.clone();
        Some(if entry.stored_at.elapsed() < self.ttl {
            Cached::Fresh(value)
        } else {
            Cached::Stale(value)
        })
    }

    /// Stores `value`, replacing what was there. When full, expired entries go first, then the
    /// oldest tenth (at least one), so the cache cannot grow without bound, and a cache full of
    /// fresh entries is scanned once per tenth of its capacity in new keys, not on every put.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self.lock();
        if !entries.contains_key(&key) && entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.stored_at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                let count = (self.capacity / 10).clamp(1, entries.len());
                let mut ages: Vec<Instant> =
                    entries.values().map(|entry| entry.stored_at).collect();
                let (_, newest_dropped, _) = ages.select_nth_unstable(count - 1);
                let newest_dropped = *newest_dropped;
                entries.retain(|_, entry| entry.stored_at > newest_dropped);
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                stored_at: Instant::now(),
            },
        );
    }

    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    /// A panic while holding the lock cannot leave an entry half-written (every change is one
    /// map operation), so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_fresh_within_its_ttl_and_stale_but_kept_after_it() {
        let fresh = TtlCache::new(Duration::from_secs(60), 10);
        fresh.put(1, "a");
        assert_eq!(fresh.get(&1), Some(Cached::Fresh("a")));
        assert_eq!(fresh.get(&2), None);

        let stale = TtlCache::new(Duration::ZERO, 10);
        stale.put(1, "a");
        assert_eq!(stale.get(&1), Some(Cached::Stale("a")));
        stale.remove(&1);
        assert_eq!(stale.get(&1), None);
    }

    #[test]
    fn a_full_cache_drops_its_oldest_entry() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        cache.put(1, "a");
        cache.put(2, "b");
        cache.put(2, "b2");
        cache.put(3, "c");
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&2), Some(Cached::Fresh("b2")));
        assert_eq!(cache.get(&3), Some(Cached::Fresh("c")));
    }

    #[test]
    fn a_cache_full_of_fresh_entries_drops_its_oldest_tenth_at_once() {
        let cache = TtlCache::new(Duration::from_secs(60), 100);
        for key in 0..100 {
            cache.put(key, key);
            // Distinct storage instants, so that the oldest tenth is exactly ten entries.
            std::thread::sleep(Duration::from_micros(10));
        }

        cache.put(100, 100);

        assert_eq!(cache.lock().len(), 91);
        assert_eq!(cache.get(&9), None);
        assert_eq!(cache.get(&10), Some(Cached::Fresh(10)));
        assert_eq!(cache.get(&100), Some(Cached::Fresh(100)));
    }
}

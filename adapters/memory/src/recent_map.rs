//! A map with a capacity that, when full, forgets its least recently used tenth at once.
//!
//! The in-process adapters keep maps keyed by what clients send (users, rooms); each is one of
//! these, so none grows without bound. Forgetting a tenth at once, rather than one entry per
//! insert, scans the map once per tenth of its capacity in new keys: inserting stays O(1)
//! amortised, as in the delivery order's room table.

use std::collections::HashMap;
use std::hash::Hash;

/// Key to value, at most `capacity` entries; every entry remembers when it was last used.
#[derive(Debug)]
pub(crate) struct RecentMap<K, V> {
    entries: HashMap<K, Used<V>>,
    /// Counts uses: a larger tick is a more recent use, and no two entries share one.
    tick: u64,
    capacity: usize,
}

#[derive(Debug)]
struct Used<V> {
    value: V,
    at: u64,
}

impl<K: Eq + Hash + Clone, V> RecentMap<K, V> {
    /// An empty map holding at most `capacity` (at least one) entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            tick: 0,
            capacity: capacity.max(1),
        }
    }

    /// The value of `key`, without counting this as a use.
    pub(crate) fn peek(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|used| &used.value)
    }

    /// The value of `key` to change, without counting this as a use.
    pub(crate) fn peek_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key).map(|used| &mut used.value)
    }

    /// The value of `key`, now its most recently used.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let tick = self.next_tick();
        self.entries.get_mut(key).map(|used| {
            used.at = tick;
            &mut used.value
        })
    }

    /// The value of `key`, made by `make` if absent, now the most recently used; and the
    /// entries forgotten to make room for it (none unless the map was full).
    pub(crate) fn use_or_insert_with(
        &mut self,
        key: K,
        make: impl FnOnce() -> V,
    ) -> (&mut V, Vec<(K, V)>) {
        let forgotten = if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.forget_least_recent(self.capacity / 10)
        } else {
            Vec::new()
        };
        let tick = self.next_tick();
        let used = self.entries.entry(key).or_insert_with(|| Used {
            value: make(),
            at: tick,
        });
        used.at = tick;
        (&mut used.value, forgotten)
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every key held, in no particular order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.keys()
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Forgets the `count` entries (at least one, at most all) used least recently.
    pub(crate) fn forget_least_recent(&mut self, count: usize) -> Vec<(K, V)> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let count = count.clamp(1, self.entries.len());
        let mut ticks: Vec<u64> = self.entries.values().map(|used| used.at).collect();
        let (_, threshold, _) = ticks.select_nth_unstable(count - 1);
        let threshold = *threshold;
        self.entries
            .extract_if(|_, used| used.at <= threshold)
            .map(|(key, used)| (key, used.value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_forgets_its_least_recently_used_tenth_to_make_room() {
        let mut map = RecentMap::new(20);
        for key in 0..20 {
            map.use_or_insert_with(key, || key * 10);
        }
        // Keys 0 and 1 were the oldest; 0 is used again, so 1 and 2 are the least recent.
        assert_eq!(map.get_mut(&0).copied(), Some(0));

        let (value, forgotten) = map.use_or_insert_with(20, || 200);
        assert_eq!(*value, 200);

        let mut forgotten: Vec<u32> = forgotten.into_iter().map(|(key, _)| key).collect();
        forgotten.sort_unstable();
        assert_eq!(forgotten, [1, 2]);
        assert_eq!(map.len(), 19);
        assert_eq!(map.peek(&0), Some(&0));
        assert_eq!(map.peek(&1), None);
    }

    #[test]
    fn using_a_held_key_of_a_full_map_forgets_nothing() {
        let mut map = RecentMap::new(3);
        for key in 0..3 {
            map.use_or_insert_with(key, || ());
        }

        let ((), forgotten) = map.use_or_insert_with(1, || ());

        assert!(forgotten.is_empty());
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn a_map_never_holds_more_than_its_capacity() {
        let mut map = RecentMap::new(1000);
        for key in 0..100_000 {
            map.use_or_insert_with(key, || ());
            assert!(map.len() <= 1000);
        }
        assert!(map.len() > 900, "{} held", map.len());
    }
}

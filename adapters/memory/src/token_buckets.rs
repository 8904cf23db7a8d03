//! [`TokenBuckets`]: one token bucket per key, in memory, bounded however many keys clients
//! name.
//!
//! The buckets are spread over [`SHARDS`] independently locked maps, and idle buckets are
//! dropped incrementally: every call looks at no more than [`EXPIRY_STEPS`] entries of its
//! shard's expiry queue, so no call ever walks all buckets under a lock, however many keys
//! there are. A shard also holds at most its share of a fixed number of buckets: keys can
//! come from client input (a room id), and a client naming a new one for every request must
//! not grow the map without end. A new key in a full shard first drops the bucket that was
//! due to be idle soonest; that bucket comes back full if its key is used again, so the cap
//! can only ever let a few more requests through, never refuse one.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher as _, Hash};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use application::ports::outbound::{Admission, Rate};

use crate::lock;

/// Independently locked parts of a bucket map.
const SHARDS: usize = 16;
/// Expiry queue entries looked at per call (each call adds at most one).
pub(crate) const EXPIRY_STEPS: usize = 2;
/// A bucket left alone this long is dropped even if it is not full yet (a rate so slow that
/// refilling takes longer): the key then starts again from a full bucket.
const LONGEST_IDLE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// When this bucket is full again (and so no different from a missing one).
    fn idle_at(&self, rate: Rate) -> Instant {
        let missing = (rate.burst - self.tokens).max(0.0);
        let refill = if rate.per_second > 0.0 {
            Duration::try_from_secs_f64(missing / rate.per_second).unwrap_or(LONGEST_IDLE)
        } else {
            LONGEST_IDLE
        };
        self.updated + refill.min(LONGEST_IDLE)
    }
}

/// One lock's worth of buckets, with the queue of when each may be dropped.
#[derive(Debug)]
struct Shard<K> {
    buckets: HashMap<K, Bucket>,
    /// Every bucket appears exactly once, with the instant it was due to be idle when queued.
    expiry: VecDeque<(Instant, K)>,
}

impl<K> Default for Shard<K> {
    fn default() -> Self {
        Self {
            buckets: HashMap::new(),
            expiry: VecDeque::new(),
        }
    }
}

impl<K: Copy + Eq + Hash> Shard<K> {
    /// Drops up to [`EXPIRY_STEPS`] buckets that are idle by `now`; a queued bucket used
    /// since goes to the back of the queue with its new due time.
    fn expire_some(&mut self, now: Instant, rate_of: impl Fn(&K) -> Rate) {
        for _ in 0..EXPIRY_STEPS {
            let Some(&(due, key)) = self.expiry.front() else {
                return;
            };
            if due > now {
                return;
            }
            self.expiry.pop_front();
            if let Some(bucket) = self.buckets.get(&key) {
                let idle_at = bucket.idle_at(rate_of(&key));
                if idle_at <= now {
                    self.buckets.remove(&key);
                } else {
                    self.expiry.push_back((idle_at, key));
                }
            }
        }
    }

    /// Makes room for one more bucket when the shard holds `capacity`: drops the bucket at
    /// the front of the expiry queue (the one due to be idle soonest, as far as the queue
    /// knows).
    fn make_room(&mut self, capacity: usize) {
        while self.buckets.len() >= capacity {
            let Some((_, key)) = self.expiry.pop_front() else {
                return;
            };
            self.buckets.remove(&key);
        }
    }
}

/// Token buckets by key, at most about `capacity` of them (see the module doc).
#[derive(Debug)]
pub(crate) struct TokenBuckets<K> {
    hasher: RandomState,
    shards: Vec<Mutex<Shard<K>>>,
    shard_capacity: usize,
}

impl<K: Copy + Eq + Hash> TokenBuckets<K> {
    /// Room for `capacity` buckets, rounded up to a multiple of the shard count.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, key: &K) -> &Mutex<Shard<K>> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }

    /// Takes one token from `key`'s bucket, which refills at `rate_of(key)` (a new key starts
    /// full).
    pub(crate) fn take(&self, key: K, rate_of: impl Fn(&K) -> Rate) -> Admission {
        let rate = rate_of(&key);
        let now = Instant::now();
        let mut guard = lock(self.shard(&key));
        guard.expire_some(now, &rate_of);
        if !guard.buckets.contains_key(&key) {
            guard.make_room(self.shard_capacity);
        }
        let Shard { buckets, expiry } = &mut *guard;
        let mut created = false;
        let bucket = buckets.entry(key).or_insert_with(|| {
            created = true;
            Bucket {
                tokens: rate.burst,
                updated: now,
            }
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(rate.burst);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        if created {
            expiry.push_back((bucket.idle_at(rate), key));
        }
        if allowed {
            return Admission::Allowed;
        }
        let missing = 1.0 - bucket.tokens;
        let retry_after = if rate.per_second > 0.0 {
            Duration::try_from_secs_f64(missing / rate.per_second).unwrap_or(Duration::MAX)
        } else {
            Duration::MAX
        };
        Admission::Limited { retry_after }
    }

    /// Buckets held now, for tests.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).buckets.len()).sum()
    }

    /// The keys held now, for tests.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<K> {
        self.shards
            .iter()
            .flat_map(|s| lock(s).buckets.keys().copied().collect::<Vec<_>>())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Rate = Rate {
        per_second: 0.001,
        burst: 1.0,
    };

    #[test]
    fn a_map_never_holds_more_than_its_capacity_however_many_keys_come() {
        let buckets = TokenBuckets::new(64);

        for key in 0..10_000_u64 {
            assert_eq!(
                buckets.take(key, |_| SLOW),
                Admission::Allowed,
                "a new key starts full, even in a full map"
            );
        }

        assert!(buckets.len() <= 64, "{} buckets held", buckets.len());
    }

    #[test]
    fn a_full_shard_drops_the_bucket_due_soonest_and_keeps_the_newest() {
        // One bucket per shard: every new key of a shard pushes out the one before.
        let buckets = TokenBuckets::new(SHARDS);
        assert_eq!(buckets.take(1_u64, |_| SLOW), Admission::Allowed);
        assert!(matches!(
            buckets.take(1_u64, |_| SLOW),
            Admission::Limited { .. }
        ));

        for key in 2..2_000_u64 {
            buckets.take(key, |_| SLOW);
        }

        assert!(buckets.len() <= SHARDS);
        assert!(
            buckets.keys().contains(&1_999),
            "the newest key keeps its bucket"
        );
        assert_eq!(
            buckets.take(1_u64, |_| SLOW),
            Admission::Allowed,
            "a dropped bucket comes back full"
        );
    }
}

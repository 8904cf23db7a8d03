//! Per-user token buckets in memory, for one instance.
//!
//! The buckets are spread over [`SHARDS`] independently locked maps, and idle buckets are
//! dropped incrementally: every call looks at no more than [`EXPIRY_STEPS`] entries of its
//! shard's expiry queue, so no call ever walks all buckets under a lock, however many users
//! there are.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use application::ports::outbound::{
    Admission, LimiterError, Rate, RateLimiter, Rates, RequestKind,
};
use domain::UserId;

use crate::lock;

/// Independently locked parts of the bucket map.
const SHARDS: usize = 16;
/// Expiry queue entries looked at per call (each call adds at most one).
const EXPIRY_STEPS: usize = 2;
/// A bucket left alone this long is dropped even if it is not full yet (a rate so slow that
/// refilling takes longer): the user then starts again from a full bucket.
const LONGEST_IDLE: Duration = Duration::from_secs(600);

type Key = (UserId, RequestKind);

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
#[derive(Debug, Default)]
struct Shard {
    buckets: HashMap<Key, Bucket>,
    /// Every bucket appears once, with the instant it was due to be idle when queued.
    expiry: VecDeque<(Instant, Key)>,
}

impl Shard {
    /// Drops up to [`EXPIRY_STEPS`] buckets that are idle by `now`; a queued bucket used
    /// since goes to the back of the queue with its new due time.
    fn expire_some(&mut self, now: Instant, rates: &Rates) {
        for _ in 0..EXPIRY_STEPS {
            let Some(&(due, key)) = self.expiry.front() else {
                return;
            };
            if due > now {
                return;
            }
            self.expiry.pop_front();
            if let Some(bucket) = self.buckets.get(&key) {
                let idle_at = bucket.idle_at(rates.of(key.1));
                if idle_at <= now {
                    self.buckets.remove(&key);
                } else {
                    self.expiry.push_back((idle_at, key));
                }
            }
        }
    }
}

/// The embedded rate limiter: one token bucket per user and request kind, in this process.
#[derive(Debug)]
pub struct TokenBucketLimiter {
    rates: Rates,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

impl TokenBucketLimiter {
    /// A limiter with the given allowances.
    pub fn new(rates: Rates) -> Self {
        Self {
            rates,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// The allowances this limiter applies.
    pub fn rates(&self) -> Rates {
        self.rates
    }

    fn shard(&self, key: &Key) -> &Mutex<Shard> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }

    /// Buckets held now, for tests.
    #[cfg(test)]
    fn bucket_count(&self) -> usize {
        self.shards.iter().map(|s| lock(s).buckets.len()).sum()
    }
}

#[async_trait::async_trait]
impl RateLimiter for TokenBucketLimiter {
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError> {
        let rate = self.rates.of(kind);
        let now = Instant::now();
        let key = (user, kind);
        let mut guard = lock(self.shard(&key));
        guard.expire_some(now, &self.rates);
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
            return Ok(Admission::Allowed);
        }
        let missing = 1.0 - bucket.tokens;
        let retry_after = if rate.per_second > 0.0 {
            Duration::try_from_secs_f64(missing / rate.per_second).unwrap_or(Duration::MAX)
        } else {
            Duration::MAX
        };
        Ok(Admission::Limited { retry_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(burst: f64) -> TokenBucketLimiter {
        let rate = Rate {
            per_second: 50.0,
            burst,
        };
        TokenBucketLimiter::new(Rates {
            write: rate,
            read: Rate {
                per_second: 1.0,
                burst: 100.0,
            },
            subscribe: Rate {
                per_second: 1.0,
                burst: 100.0,
            },
        })
    }

    #[tokio::test]
    async fn a_burst_is_allowed_then_the_user_must_wait() {
        let limiter = limiter(3.0);
        let user = UserId::new(1);
        for _ in 0..3 {
            assert_eq!(
                limiter
                    .admit(user, RequestKind::Write)
                    .await
                    .expect("answer"),
                Admission::Allowed
            );
        }
        let refused = limiter
            .admit(user, RequestKind::Write)
            .await
            .expect("answer");
        assert!(
            matches!(refused, Admission::Limited { retry_after } if retry_after <= Duration::from_millis(20)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn users_and_kinds_have_separate_allowances_and_buckets_refill() {
        let limiter = limiter(1.0);
        let (alice, bob) = (UserId::new(1), UserId::new(2));
        assert_eq!(
            limiter
                .admit(alice, RequestKind::Write)
                .await
                .expect("answer"),
            Admission::Allowed
        );
        assert_eq!(
            limiter
                .admit(bob, RequestKind::Write)
                .await
                .expect("answer"),
            Admission::Allowed
        );
        assert_eq!(
            limiter
                .admit(alice, RequestKind::Read)
                .await
                .expect("answer"),
            Admission::Allowed
        );
        assert!(matches!(
            limiter
                .admit(alice, RequestKind::Write)
                .await
                .expect("answer"),
            Admission::Limited { .. }
        ));

        tokio::time::sleep(Duration::from_millis(40)).await;

        assert_eq!(
            limiter
                .admit(alice, RequestKind::Write)
                .await
                .expect("answer"),
            Admission::Allowed
        );
    }

    #[tokio::test]
    async fn buckets_that_refilled_are_dropped_by_later_calls_a_few_at_a_time() {
        // 50 per second, burst 1: a bucket is full again 20 ms after its request.
        let limiter = limiter(1.0);
        for id in 1..=200 {
            limiter
                .admit(UserId::new(id), RequestKind::Write)
                .await
                .expect("answer");
        }
        assert_eq!(limiter.bucket_count(), 200);

        tokio::time::sleep(Duration::from_millis(40)).await;
        // Each call drops at most EXPIRY_STEPS idle buckets of its own shard.
        let before = limiter.bucket_count();
        limiter
            .admit(UserId::new(1_000), RequestKind::Write)
            .await
            .expect("answer");
        let after_one = limiter.bucket_count();
        let dropped = (before + 1).saturating_sub(after_one);
        assert!(
            dropped <= EXPIRY_STEPS,
            "one call dropped {dropped} buckets"
        );
        for id in 2_000..4_000 {
            limiter
                .admit(UserId::new(id), RequestKind::Read)
                .await
                .expect("answer");
        }
        let old_left = limiter
            .shards
            .iter()
            .map(|s| {
                lock(s)
                    .buckets
                    .keys()
                    .filter(|(user, kind)| *kind == RequestKind::Write && user.get() <= 200)
                    .count()
            })
            .sum::<usize>();
        assert_eq!(old_left, 0, "every idle bucket was dropped eventually");
    }

    #[tokio::test]
    async fn a_dropped_bucket_comes_back_full_so_dropping_changes_no_answer() {
        let limiter = limiter(2.0);
        let user = UserId::new(7);
        for _ in 0..2 {
            limiter
                .admit(user, RequestKind::Write)
                .await
                .expect("answer");
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        // Other users' calls expire the idle bucket.
        for id in 100..300 {
            limiter
                .admit(UserId::new(id), RequestKind::Write)
                .await
                .expect("answer");
        }

        for _ in 0..2 {
            assert_eq!(
                limiter
                    .admit(user, RequestKind::Write)
                    .await
                    .expect("answer"),
                Admission::Allowed
            );
        }
        assert!(matches!(
            limiter
                .admit(user, RequestKind::Write)
                .await
                .expect("answer"),
            Admission::Limited { .. }
        ));
    }
}

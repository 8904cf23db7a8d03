//! Per-user token buckets in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use application::ports::outbound::{Admission, LimiterError, RateLimiter, RequestKind};
use domain::UserId;

use crate::lock;

/// A sustained rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once after a quiet period.
    pub burst: f64,
}

/// The allowance of each request kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Posting, replying, editing, deleting, typing.
    pub write: Rate,
    /// Reading.
    pub read: Rate,
    /// Subscribing.
    pub subscribe: Rate,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets of users idle this long are full again and are dropped when the map is swept.
const SWEEP_AFTER: Duration = Duration::from_secs(600);
/// The map is swept when it grows past this many buckets.
const SWEEP_AT: usize = 100_000;

/// The embedded rate limiter: one token bucket per user and request kind.
#[derive(Debug)]
pub struct TokenBucketLimiter {
    rates: Rates,
    buckets: Mutex<HashMap<(UserId, RequestKind), Bucket>>,
}

impl TokenBucketLimiter {
    /// A limiter with the given allowances.
    pub fn new(rates: Rates) -> Self {
        Self {
            rates,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn rate(&self, kind: RequestKind) -> Rate {
        match kind {
            RequestKind::Write => self.rates.write,
            RequestKind::Read => self.rates.read,
            RequestKind::Subscribe => self.rates.subscribe,
        }
    }
}

impl RateLimiter for TokenBucketLimiter {
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError> {
        let rate = self.rate(kind);
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        if buckets.len() > SWEEP_AT {
            buckets.retain(|_, b| now.duration_since(b.updated) < SWEEP_AFTER);
        }
        let bucket = buckets.entry((user, kind)).or_insert(Bucket {
            tokens: rate.burst,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(rate.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(Admission::Allowed);
        }
        let missing = 1.0 - bucket.tokens;
        let retry_after = if rate.per_second > 0.0 {
            Duration::from_secs_f64(missing / rate.per_second)
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
}

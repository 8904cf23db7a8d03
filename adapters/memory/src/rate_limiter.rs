//! Per-user and per-room token buckets in memory, for one instance.
//!
//! Users and rooms each have their own [`TokenBuckets`] map: incremental expiry of idle
//! buckets, and a cap on how many are held, since room ids come from client input (as do
//! user ids, once their tokens are verified).

use application::ports::outbound::{Admission, LimiterError, RateLimiter, Rates, RequestKind};
use domain::{RoomKey, UserId};

use crate::token_buckets::TokenBuckets;

/// Buckets of users held at most: far more users than one instance serves at once (each
/// has up to one per request kind); some 100 to 150 bytes each with the maps' slack, so
/// about 150 MB at worst.
const MAX_USER_BUCKETS: usize = 1 << 20;
/// Buckets of rooms held at most: more rooms than post within one refill period on one
/// instance (two seconds at the default room allowance); about 20 MB at worst.
const MAX_ROOM_BUCKETS: usize = 1 << 17;

/// The embedded rate limiter: one token bucket per user and request kind, and one per
/// room for its message changes, in this process.
#[derive(Debug)]
pub struct TokenBucketLimiter {
    rates: Rates,
    users: TokenBuckets<(UserId, RequestKind)>,
    rooms: TokenBuckets<RoomKey>,
}

impl TokenBucketLimiter {
    /// A limiter with the given allowances.
    pub fn new(rates: Rates) -> Self {
        Self::with_capacity(rates, MAX_USER_BUCKETS, MAX_ROOM_BUCKETS)
    }

    fn with_capacity(rates: Rates, users: usize, rooms: usize) -> Self {
        Self {
            rates,
            users: TokenBuckets::new(users),
            rooms: TokenBuckets::new(rooms),
        }
    }

    /// The allowances this limiter applies.
    pub fn rates(&self) -> Rates {
        self.rates
    }
}

#[async_trait::async_trait]
impl RateLimiter for TokenBucketLimiter {
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError> {
        Ok(self
            .users
            .take((user, kind), |&(_, kind)| self.rates.of(kind)))
    }

    async fn admit_room(&self, room: RoomKey) -> Result<Admission, LimiterError> {
        let Some(rate) = self.rates.room_write else {
            return Ok(Admission::Allowed);
        };
        Ok(self.rooms.take(room, |_| rate))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use application::ports::outbound::Rate;
    use domain::{ChannelId, RoomId};

    use super::*;
    use crate::token_buckets::EXPIRY_STEPS;

    fn rates(burst: f64) -> Rates {
        Rates {
            write: Rate {
                per_second: 50.0,
                burst,
            },
            read: Rate {
                per_second: 1.0,
                burst: 100.0,
            },
            subscribe: Rate {
                per_second: 1.0,
                burst: 100.0,
            },
            room_write: Some(Rate {
                per_second: 0.001,
                burst: 3.0,
            }),
        }
    }

    fn limiter(burst: f64) -> TokenBucketLimiter {
        TokenBucketLimiter::new(rates(burst))
    }

    async fn room(limiter: &TokenBucketLimiter, room: RoomKey) -> Admission {
        limiter.admit_room(room).await.expect("answer")
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
        assert_eq!(limiter.users.len(), 200);

        tokio::time::sleep(Duration::from_millis(40)).await;
        // Each call drops at most EXPIRY_STEPS idle buckets of its own shard.
        let before = limiter.users.len();
        limiter
            .admit(UserId::new(1_000), RequestKind::Write)
            .await
            .expect("answer");
        let after_one = limiter.users.len();
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
            .users
            .keys()
            .into_iter()
            .filter(|(user, kind)| *kind == RequestKind::Write && user.get() <= 200)
            .count();
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

    #[tokio::test]
    async fn a_room_has_one_allowance_apart_from_its_posters_and_other_rooms() {
        let limiter = limiter(100.0);
        let dm = RoomKey::Direct(RoomId::new(5));
        for _ in 0..3 {
            assert_eq!(room(&limiter, dm).await, Admission::Allowed);
        }

        assert!(matches!(
            room(&limiter, dm).await,
            Admission::Limited { retry_after } if retry_after > Duration::from_secs(100)
        ));
        assert_eq!(
            room(&limiter, RoomKey::Channel(ChannelId::new(5))).await,
            Admission::Allowed,
            "a channel with the DM room's number is another room"
        );
        assert_eq!(
            limiter
                .admit(UserId::new(5), RequestKind::Write)
                .await
                .expect("answer"),
            Admission::Allowed,
            "the room's allowance is not a user's"
        );
    }

    #[tokio::test]
    async fn without_a_room_allowance_rooms_are_never_limited_and_hold_no_bucket() {
        let limiter = TokenBucketLimiter::new(Rates {
            room_write: None,
            ..rates(1.0)
        });
        let dm = RoomKey::Direct(RoomId::new(5));

        for _ in 0..100 {
            assert_eq!(room(&limiter, dm).await, Admission::Allowed);
        }

        assert_eq!(limiter.rooms.len(), 0);
    }

    #[tokio::test]
    async fn rooms_named_by_clients_never_hold_more_buckets_than_the_cap() {
        let limiter = TokenBucketLimiter::with_capacity(rates(1.0), 1_000, 256);

        for id in 1..=20_000 {
            room(&limiter, RoomKey::Direct(RoomId::new(id))).await;
        }

        assert!(limiter.rooms.len() <= 256, "{}", limiter.rooms.len());
    }
}

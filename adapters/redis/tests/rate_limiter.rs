//! `RedisRateLimiter` against a real Redis (`CHAT_TEST_REDIS_URL`, a fresh key prefix per
//! test): two limiters, as two instances would hold, share one allowance (a user's, or a
//! room's); and while Redis is down (a private `redis-server` from `CHAT_TEST_REDIS_SERVER_BIN`, killed) the fallback
//! limiter answers, so the limits never lapse.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/private_redis.rs"]
mod private_redis;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use application::ports::outbound::{
    Admission, LimiterError, Rate, RateLimiter, Rates, RequestKind,
};
use chat_adapter_redis::{RedisConnection, RedisRateLimiter, RedisSettings};
use domain::{ChannelId, RoomId, RoomKey, UserId};
use fred::prelude::{Builder, ClientLike as _, Config, KeysInterface as _};
use private_redis::{PrivateRedis, env};
use secrecy::ExposeSecret as _;

/// Far above the command timeout: only a call that hangs reaches it.
const HANG: Duration = Duration::from_secs(15);

fn fresh_settings(url: String) -> RedisSettings {
    RedisSettings {
        key_prefix: format!("limit-{}:", uuid::Uuid::new_v4().simple()),
        command_timeout_ms: 500,
        ..RedisSettings::new(url)
    }
}

/// A fallback that counts its calls and always refuses (so a test sees who answered).
#[derive(Debug, Default)]
struct CountingFallback {
    calls: AtomicUsize,
}

impl CountingFallback {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl RateLimiter for CountingFallback {
    async fn admit(&self, _user: UserId, _kind: RequestKind) -> Result<Admission, LimiterError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Admission::Limited {
            retry_after: Duration::from_secs(7),
        })
    }

    async fn admit_room(&self, _room: RoomKey) -> Result<Admission, LimiterError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Admission::Limited {
            retry_after: Duration::from_secs(7),
        })
    }
}

/// `burst` writes at once, then practically none (one per 1000 s), for users and for rooms;
/// reads: plenty.
fn rates(burst: f64) -> Rates {
    Rates {
        write: Rate {
            per_second: 0.001,
            burst,
        },
        read: Rate {
            per_second: 100.0,
            burst: 100.0,
        },
        subscribe: Rate {
            per_second: 100.0,
            burst: 100.0,
        },
        room_write: Some(Rate {
            per_second: 0.001,
            burst,
        }),
    }
}

async fn limiter(settings: &RedisSettings, rates: Rates) -> RedisRateLimiter<CountingFallback> {
    let connection = RedisConnection::connect(settings)
        .await
        .expect("the test Redis answers");
    RedisRateLimiter::new(connection, settings, rates, CountingFallback::default())
}

async fn admit(limiter: &impl RateLimiter, user: u64, kind: RequestKind) -> Admission {
    tokio::time::timeout(HANG, limiter.admit(UserId::new(user), kind))
        .await
        .expect("the limiter answers instead of hanging")
        .expect("the limiter answers")
}

async fn admit_room(limiter: &impl RateLimiter, room: RoomKey) -> Admission {
    tokio::time::timeout(HANG, limiter.admit_room(room))
        .await
        .expect("the limiter answers instead of hanging")
        .expect("the limiter answers")
}

/// A raw client of the test Redis, to look at the limiter's keys.
async fn raw_client(settings: &RedisSettings) -> fred::prelude::Client {
    let raw = Builder::from_config(Config::from_url(settings.url.expose_secret()).expect("url"))
        .build()
        .expect("client");
    raw.init().await.expect("the test Redis answers");
    raw
}

#[tokio::test]
async fn two_instances_share_one_allowance() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    let (first, second) = (
        limiter(&settings, rates(4.0)).await,
        limiter(&settings, rates(4.0)).await,
    );

    let mut answers = Vec::new();
    for n in 0..6 {
        let instance = if n % 2 == 0 { &first } else { &second };
        answers.push(admit(instance, 1, RequestKind::Write).await);
    }

    let allowed = answers.iter().filter(|a| **a == Admission::Allowed).count();
    assert_eq!(allowed, 4, "one allowance of 4 for both: {answers:?}");
    assert!(matches!(answers[4], Admission::Limited { .. }));
    assert!(matches!(answers[5], Admission::Limited { .. }));
    assert_eq!(first.fallback().calls() + second.fallback().calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_two_instances_never_spend_more_than_the_allowance() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    let first = std::sync::Arc::new(limiter(&settings, rates(10.0)).await);
    let second = std::sync::Arc::new(limiter(&settings, rates(10.0)).await);

    let mut tasks = Vec::new();
    for n in 0..60 {
        let instance = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            admit(&*instance, 7, RequestKind::Write).await
        }));
    }
    let mut allowed = 0;
    for task in tasks {
        if task.await.expect("task") == Admission::Allowed {
            allowed += 1;
        }
    }

    assert_eq!(allowed, 10);
}

#[tokio::test]
async fn users_and_kinds_have_separate_allowances() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    let limiter = limiter(&settings, rates(1.0)).await;

    assert_eq!(
        admit(&limiter, 1, RequestKind::Write).await,
        Admission::Allowed
    );
    assert!(matches!(
        admit(&limiter, 1, RequestKind::Write).await,
        Admission::Limited { .. }
    ));
    assert_eq!(
        admit(&limiter, 2, RequestKind::Write).await,
        Admission::Allowed
    );
    assert_eq!(
        admit(&limiter, 1, RequestKind::Read).await,
        Admission::Allowed
    );
}

#[tokio::test]
async fn a_limited_user_is_told_when_the_next_request_is_allowed_and_it_is() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    // 20 per second, burst 1: the next request is due 50 ms after the first.
    let limiter = limiter(
        &settings,
        Rates {
            write: Rate {
                per_second: 20.0,
                burst: 1.0,
            },
            ..rates(1.0)
        },
    )
    .await;

    assert_eq!(
        admit(&limiter, 1, RequestKind::Write).await,
        Admission::Allowed
    );
    let Admission::Limited { retry_after } = admit(&limiter, 1, RequestKind::Write).await else {
        panic!("the second request at once is over the allowance");
    };
    assert!(
        retry_after > Duration::ZERO && retry_after <= Duration::from_millis(50),
        "{retry_after:?}"
    );

    tokio::time::sleep(retry_after + Duration::from_millis(5)).await;
    assert_eq!(
        admit(&limiter, 1, RequestKind::Write).await,
        Admission::Allowed
    );
}

#[tokio::test]
async fn the_key_of_an_allowance_expires_once_it_is_whole_again() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    // 10 per second: one request is paid back after 100 ms.
    let limiter = limiter(
        &settings,
        Rates {
            write: Rate {
                per_second: 10.0,
                burst: 5.0,
            },
            ..rates(1.0)
        },
    )
    .await;
    admit(&limiter, 9, RequestKind::Write).await;

    let raw = raw_client(&settings).await;
    let key = format!("{}limit:write:9", settings.key_prefix);
    let ttl_ms: i64 = raw.pttl(&key).await.expect("pttl");

    assert!((1..=101).contains(&ttl_ms), "{key} lives {ttl_ms} ms");
}

#[tokio::test]
async fn with_redis_down_the_fallback_limiter_answers_instead_of_letting_requests_through() {
    let mut redis = PrivateRedis::start();
    let settings = fresh_settings(redis.url());
    let limiter = limiter(&settings, rates(100.0)).await;
    assert_eq!(
        admit(&limiter, 1, RequestKind::Write).await,
        Admission::Allowed
    );
    assert_eq!(limiter.fallback().calls(), 0, "Redis answered while up");

    redis.kill();
    let answers = [
        admit(&limiter, 1, RequestKind::Write).await,
        admit(&limiter, 1, RequestKind::Write).await,
        admit(&limiter, 2, RequestKind::Read).await,
    ];

    assert_eq!(
        limiter.fallback().calls(),
        3,
        "every request went to the fallback"
    );
    assert!(
        answers.iter().all(|a| *a
            == Admission::Limited {
                retry_after: Duration::from_secs(7)
            }),
        "the fallback's answers, not an open door: {answers:?}"
    );
}

#[tokio::test]
async fn two_instances_share_one_room_allowance_whoever_posts() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    let (first, second) = (
        limiter(&settings, rates(3.0)).await,
        limiter(&settings, rates(3.0)).await,
    );
    let dm = RoomKey::Direct(RoomId::new(5));

    let answers = [
        admit_room(&first, dm).await,
        admit_room(&second, dm).await,
        admit_room(&first, dm).await,
        admit_room(&second, dm).await,
    ];

    assert_eq!(
        answers[..3],
        [Admission::Allowed; 3],
        "one allowance of 3 for the room on both instances"
    );
    assert!(
        matches!(answers[3], Admission::Limited { .. }),
        "{answers:?}"
    );
    assert_eq!(first.fallback().calls() + second.fallback().calls(), 0);
}

#[tokio::test]
async fn rooms_have_allowances_apart_from_each_other_and_from_users() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    let limiter = limiter(&settings, rates(1.0)).await;
    let dm = RoomKey::Direct(RoomId::new(5));

    assert_eq!(admit_room(&limiter, dm).await, Admission::Allowed);
    assert!(matches!(
        admit_room(&limiter, dm).await,
        Admission::Limited { .. }
    ));

    assert_eq!(
        admit_room(&limiter, RoomKey::Channel(ChannelId::new(5))).await,
        Admission::Allowed,
        "a channel with the DM room's number is another room"
    );
    assert_eq!(
        admit(&limiter, 5, RequestKind::Write).await,
        Admission::Allowed,
        "a room's allowance is not a user's"
    );
}

#[tokio::test]
async fn the_key_of_a_room_allowance_expires_once_it_is_whole_again() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    // 10 per second: one message is paid back after 100 ms.
    let limiter = limiter(
        &settings,
        Rates {
            room_write: Some(Rate {
                per_second: 10.0,
                burst: 5.0,
            }),
            ..rates(1.0)
        },
    )
    .await;
    admit_room(&limiter, RoomKey::Channel(ChannelId::new(12))).await;

    let raw = raw_client(&settings).await;
    let key = format!("{}limit:room:channel:12", settings.key_prefix);
    let ttl_ms: i64 = raw.pttl(&key).await.expect("pttl");

    assert!((1..=101).contains(&ttl_ms), "{key} lives {ttl_ms} ms");
}

#[tokio::test]
async fn without_a_room_allowance_rooms_are_admitted_without_a_key_in_redis() {
    let settings = fresh_settings(env("CHAT_TEST_REDIS_URL"));
    let limiter = limiter(
        &settings,
        Rates {
            room_write: None,
            ..rates(1.0)
        },
    )
    .await;
    let dm = RoomKey::Direct(RoomId::new(5));

    for _ in 0..5 {
        assert_eq!(admit_room(&limiter, dm).await, Admission::Allowed);
    }

    let raw = raw_client(&settings).await;
    let exists: i64 = raw
        .exists(format!("{}limit:room:direct:5", settings.key_prefix))
        .await
        .expect("exists");
    assert_eq!(exists, 0);
    assert_eq!(limiter.fallback().calls(), 0);
}

#[tokio::test]
async fn with_redis_down_the_fallback_limiter_answers_room_writes_too() {
    let mut redis = PrivateRedis::start();
    let settings = fresh_settings(redis.url());
    let limiter = limiter(&settings, rates(100.0)).await;
    let dm = RoomKey::Direct(RoomId::new(5));
    assert_eq!(admit_room(&limiter, dm).await, Admission::Allowed);
    assert_eq!(limiter.fallback().calls(), 0, "Redis answered while up");

    redis.kill();
    let answer = admit_room(&limiter, dm).await;

    assert_eq!(limiter.fallback().calls(), 1);
    assert_eq!(
        answer,
        Admission::Limited {
            retry_after: Duration::from_secs(7)
        },
        "the fallback's answer, not an open door"
    );
}

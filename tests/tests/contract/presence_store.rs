//! The `PresenceStore` contract against the memory store and the Redis store (a fresh key
//! prefix per test), plus what only a store shared by several instances does: two instances,
//! leases, and a Redis restart.

use std::time::{Duration, Instant};

use adapter_redis::{RedisConnection, RedisPresenceStore, RedisSettings};
use application::ports::outbound::{PresenceError, PresenceStore};
use chat_tests::PrivateRedis;
use chat_tests::contract::presence_store::{self as contract, new_session};
use chat_tests::services::{redis_url, unique_name};
use domain::UserId;

/// Settings for a Redis store under a prefix of its own.
fn settings(url: &str, prefix: &str) -> RedisSettings {
    RedisSettings {
        key_prefix: prefix.to_owned(),
        ..RedisSettings::new(url)
    }
}

async fn redis_store(settings: &RedisSettings, instance: &str) -> RedisPresenceStore {
    let connection = RedisConnection::connect(settings)
        .await
        .expect("the test Redis answers");
    RedisPresenceStore::new(connection, instance, settings)
}

/// A Redis store alone under a fresh prefix.
async fn fresh_redis_store() -> RedisPresenceStore {
    let prefix = format!("{}:", unique_name("presence"));
    redis_store(&settings(&redis_url(), &prefix), "instance-a").await
}

macro_rules! both_adapters {
    ($($behaviour:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $behaviour() {
                    contract::$behaviour(adapter_memory::MemoryPresenceStore::default()).await;
                }
            )*
        }

        mod redis {
            use super::*;
            $(
                #[tokio::test]
                async fn $behaviour() {
                    contract::$behaviour(fresh_redis_store().await).await;
                }
            )*
        }
    };
}

both_adapters!(
    opening_and_closing_count_the_sessions_of_a_user,
    opening_the_same_session_twice_counts_it_once,
    a_second_close_of_the_same_session_returns_none,
    closing_an_unknown_session_returns_none,
    online_among_lists_exactly_the_users_with_an_open_session,
    a_user_stays_online_until_their_last_session_closes,
    a_renewing_store_finds_none_of_its_own_sessions_orphaned,
);

mod redis_shared {
    use super::*;

    /// Two instances' stores (each with its own connection) under one fresh prefix.
    async fn two_instances(lease_a: u64, lease_b: u64) -> (RedisPresenceStore, RedisPresenceStore) {
        let prefix = format!("{}:", unique_name("presence"));
        let url = redis_url();
        let a = RedisSettings {
            lease_seconds: lease_a,
            ..settings(&url, &prefix)
        };
        let b = RedisSettings {
            lease_seconds: lease_b,
            ..settings(&url, &prefix)
        };
        (
            redis_store(&a, "instance-a").await,
            redis_store(&b, "instance-b").await,
        )
    }

    #[tokio::test]
    async fn stores_of_two_instances_see_each_others_sessions() {
        let (a, b) = two_instances(30, 30).await;
        contract::shared_stores_of_two_instances_see_each_others_sessions(a, b).await;
    }

    #[tokio::test]
    async fn concurrent_closes_from_two_instances_yield_exactly_one_session() {
        let (a, b) = two_instances(30, 30).await;
        contract::shared_concurrent_closes_from_two_instances_yield_exactly_one_session(a, b).await;
    }

    #[tokio::test]
    async fn sessions_of_an_instance_that_stops_renewing_become_orphans() {
        let (dead, survivor) = two_instances(1, 30).await;
        contract::shared_sessions_of_an_instance_that_stops_renewing_become_orphans(
            dead,
            survivor,
            Duration::from_secs(1),
        )
        .await;
    }

    #[tokio::test]
    async fn sessions_of_a_renewing_instance_are_never_orphans() {
        // A lease long enough that a loaded test machine cannot stall a renewal past it.
        let (live, other) = two_instances(3, 30).await;
        contract::shared_sessions_of_a_renewing_instance_are_never_orphans(
            live,
            other,
            Duration::from_secs(3),
            Duration::from_secs(4),
        )
        .await;
    }

    #[tokio::test]
    async fn an_instance_restarted_with_the_same_id_is_a_new_lease_owner() {
        let prefix = format!("{}:", unique_name("presence"));
        let short = RedisSettings {
            lease_seconds: 1,
            ..settings(&redis_url(), &prefix)
        };
        let first_run = redis_store(&short, "instance-a").await;
        let second_run = redis_store(&short, "instance-a").await;
        assert_ne!(first_run.lease_owner(), second_run.lease_owner());
        assert!(first_run.lease_owner().starts_with("instance-a:"));

        let session = new_session(UserId::new(1));
        first_run.open(&session).await.expect("open");
        drop(first_run);
        let deadline = Instant::now() + Duration::from_secs(6);
        while !second_run
            .orphaned_sessions()
            .await
            .expect("orphans")
            .contains(&session.id)
        {
            second_run.renew_lease().await.expect("renew");
            assert!(
                Instant::now() < deadline,
                "the previous run's session never became an orphan"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            second_run
                .close(&session.id)
                .await
                .expect("claim")
                .is_some()
        );
    }
}

#[tokio::test]
async fn during_a_redis_outage_calls_fail_quickly_and_work_again_once_it_is_back() {
    let mut redis = PrivateRedis::start();
    let settings = RedisSettings {
        command_timeout_ms: 500,
        connect_timeout_ms: 500,
        ..RedisSettings::new(redis.url())
    };
    let store = redis_store(&settings, "instance-a").await;
    let user = UserId::new(1);
    let before = new_session(user);
    assert_eq!(store.open(&before).await.expect("open"), 1);

    redis.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let during = store.open(&new_session(user)).await;
        assert!(
            matches!(during, Err(PresenceError::Unavailable(_))),
            "open during the outage: {during:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "a call during the outage took {:?}",
            started.elapsed()
        );
    }
    assert!(matches!(
        store.online_among(&[user]).await,
        Err(PresenceError::Unavailable(_))
    ));

    redis.resume();
    // The client reconnects by itself (backing off up to 2 s between attempts).
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = new_session(user);
    let count = loop {
        match store.open(&after).await {
            Ok(count) => break count,
            Err(error) => assert!(
                Instant::now() < deadline,
                "still failing after Redis came back: {error:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The restarted server kept nothing (no persistence): only the new session is recorded...
    assert_eq!(count, 1);
    // ...until the next renewal writes back the session still alive on this instance.
    store.renew_lease().await.expect("renew after the restart");
    assert_eq!(
        store.online_among(&[user]).await.expect("online"),
        vec![user]
    );
    let closed = store.close(&after.id).await.expect("close");
    assert_eq!(closed.map(|closed| closed.remaining), Some(1));
    let closed = store.close(&before.id).await.expect("close");
    assert_eq!(closed.map(|closed| closed.remaining), Some(0));
}

#[tokio::test]
async fn a_close_that_failed_during_an_outage_is_handed_out_as_an_orphan_afterwards() {
    let mut redis = PrivateRedis::start();
    let settings = RedisSettings {
        command_timeout_ms: 500,
        connect_timeout_ms: 500,
        ..RedisSettings::new(redis.url())
    };
    let store = redis_store(&settings, "instance-a").await;
    let session = new_session(UserId::new(1));
    store.open(&session).await.expect("open");

    redis.stop();
    assert!(
        store.close(&session.id).await.is_err(),
        "close fails while Redis is away"
    );
    redis.resume();

    let deadline = Instant::now() + Duration::from_secs(15);
    let orphans = loop {
        match store.orphaned_sessions().await {
            Ok(orphans) => break orphans,
            Err(error) => assert!(
                Instant::now() < deadline,
                "Redis never came back: {error:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        orphans.contains(&session.id),
        "the unclosed session is handed out: {orphans:?}"
    );
}

//! `RedisCachedDirectory` against a real Redis (`CHAT_TEST_REDIS_URL`, a fresh key prefix per
//! test) in front of a counting fake directory: what is answered from the cache, what reaches
//! the directory, what the keys hold and how long they live, and what happens while Redis is
//! down (a private `redis-server` from `CHAT_TEST_REDIS_SERVER_BIN`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/private_redis.rs"]
mod private_redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use chat_adapter_redis::{RedisCachedDirectory, RedisConnection, RedisSettings};
use domain::{Audience, ChannelId, CommunityId, RoomId, RoomRef, UserId};
use fred::prelude::{Builder, ClientLike as _, Config, KeysInterface as _};
use private_redis::{PrivateRedis, env};
use secrecy::ExposeSecret as _;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}:", uuid::Uuid::new_v4().simple())
}

fn users(ids: &[u64]) -> Vec<UserId> {
    ids.iter().copied().map(UserId::new).collect()
}

/// A directory that knows fixed member lists and room lists and counts what it is asked.
#[derive(Debug, Default)]
struct FakeDirectory {
    members: Mutex<HashMap<Audience, Vec<UserId>>>,
    rooms: Mutex<HashMap<UserId, Vec<Audience>>>,
    channels: Mutex<HashMap<ChannelId, CommunityId>>,
    members_of: AtomicUsize,
    channel_community: AtomicUsize,
    may_post: AtomicUsize,
    may_listen: AtomicUsize,
    rooms_of: AtomicUsize,
    set_members: AtomicUsize,
}

impl FakeDirectory {
    fn with_members(group: Audience, members: &[u64]) -> Self {
        let directory = Self::default();
        directory
            .members
            .lock()
            .unwrap()
            .insert(group, users(members));
        directory
    }

    fn admits(&self, group: Audience, user: UserId) -> bool {
        self.members
            .lock()
            .unwrap()
            .get(&group)
            .is_none_or(|members| members.contains(&user))
    }

    fn count(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl CommunityDirectory for FakeDirectory {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        self.rooms_of.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .rooms
            .lock()
            .unwrap()
            .get(&user)
            .cloned()
            .unwrap_or_default())
    }

    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        self.may_post.fetch_add(1, Ordering::SeqCst);
        Ok(self.admits(room.lobby(), user))
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        self.may_listen.fetch_add(1, Ordering::SeqCst);
        Ok(self.admits(audience, user))
    }

    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        self.members_of.fetch_add(1, Ordering::SeqCst);
        Ok(self.members.lock().unwrap().get(&group).cloned())
    }

    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError> {
        self.set_members.fetch_add(1, Ordering::SeqCst);
        self.members.lock().unwrap().insert(group, members);
        Ok(())
    }

    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError> {
        self.channel_community.fetch_add(1, Ordering::SeqCst);
        Ok(self.channels.lock().unwrap().get(&channel).copied())
    }

    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError> {
        self.channels.lock().unwrap().insert(channel, community);
        Ok(())
    }

    async fn bind_channel(
        &self,
        _channel: ChannelId,
        _community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        panic!("the cache binds in Redis, never in the directory behind it")
    }
}

/// Settings with fresh prefixes for both the member keys and the others.
fn fresh_settings() -> RedisSettings {
    RedisSettings {
        key_prefix: unique("dir"),
        member_cache_prefix: unique("seed"),
        ..RedisSettings::new(env("CHAT_TEST_REDIS_URL"))
    }
}

async fn cached(
    inner: FakeDirectory,
    settings: &RedisSettings,
) -> RedisCachedDirectory<FakeDirectory> {
    let connection = RedisConnection::connect(settings)
        .await
        .expect("the test Redis answers");
    RedisCachedDirectory::new(Arc::new(inner), connection, settings)
}

/// A plain client, to look at (and write) the keys directly.
async fn raw_client(url: &str) -> fred::prelude::Client {
    let client = Builder::from_config(Config::from_url(url).expect("url"))
        .build()
        .expect("client");
    client.init().await.expect("the test Redis answers");
    client
}

const ROOM: RoomId = RoomId::new(5);
const COMMUNITY: CommunityId = CommunityId::new(3);
const CHANNEL: ChannelId = ChannelId::new(12);
const IN_CHANNEL: RoomRef = RoomRef::Channel {
    community: COMMUNITY,
    channel: CHANNEL,
};

#[tokio::test]
async fn a_cached_member_list_answers_without_asking_the_directory_again() {
    let settings = fresh_settings();
    let group = Audience::Direct(ROOM);
    let directory = cached(FakeDirectory::with_members(group, &[1, 2]), &settings).await;

    assert!(
        directory
            .may_post(UserId::new(1), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        directory
            .may_post(UserId::new(2), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        !directory
            .may_post(UserId::new(3), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        directory
            .may_listen(UserId::new(1), group)
            .await
            .expect("answer")
    );
    assert!(
        !directory
            .may_listen(UserId::new(3), group)
            .await
            .expect("answer")
    );
    assert_eq!(
        directory.members_of(group).await.expect("answer"),
        Some(users(&[1, 2]))
    );

    let inner = directory.inner();
    assert_eq!(FakeDirectory::count(&inner.members_of), 1, "fetched once");
    assert_eq!(FakeDirectory::count(&inner.may_post), 0);
    assert_eq!(FakeDirectory::count(&inner.may_listen), 0);

    // Another instance (same Redis, same keys) finds it cached too.
    let other = cached(FakeDirectory::default(), &settings).await;
    assert!(
        !other
            .may_post(UserId::new(3), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert_eq!(FakeDirectory::count(&other.inner().members_of), 0);
    assert_eq!(FakeDirectory::count(&other.inner().may_post), 0);
}

#[tokio::test]
async fn set_members_writes_the_directory_and_refreshes_the_cache_in_the_seeds_json() {
    let settings = fresh_settings();
    let group = Audience::Community(COMMUNITY);
    let directory = cached(FakeDirectory::with_members(group, &[1]), &settings).await;
    assert!(
        directory
            .may_post(UserId::new(1), IN_CHANNEL)
            .await
            .expect("answer")
    );

    directory
        .set_members(group, users(&[2, 7]))
        .await
        .expect("set");
    assert_eq!(FakeDirectory::count(&directory.inner().set_members), 1);
    assert!(
        directory
            .may_post(UserId::new(2), IN_CHANNEL)
            .await
            .expect("answer")
    );
    assert!(
        !directory
            .may_post(UserId::new(1), IN_CHANNEL)
            .await
            .expect("answer")
    );
    assert_eq!(
        FakeDirectory::count(&directory.inner().members_of),
        1,
        "the new list came from set_members, not from a new fetch"
    );

    let raw = raw_client(settings.url.expose_secret()).await;
    let stored: String = raw
        .get(format!("{}CH3", settings.member_cache_prefix))
        .await
        .expect("get");
    assert_eq!(
        stored,
        r#"{"@class":"com.example.chatserver.dto.response.CommunityFeignResponse$UserIdResponse","members":[2,7]}"#
    );
}

#[tokio::test]
async fn cached_entries_carry_their_ttls() {
    let settings = fresh_settings();
    let mut inner = FakeDirectory::with_members(Audience::Direct(ROOM), &[1]);
    inner.rooms = Mutex::new(HashMap::from([(
        UserId::new(1),
        vec![Audience::Direct(ROOM)],
    )]));
    let directory = cached(inner, &settings).await;
    directory
        .may_post(UserId::new(1), RoomRef::Direct(ROOM))
        .await
        .expect("answer");
    directory
        .set_members(Audience::Community(COMMUNITY), users(&[1]))
        .await
        .expect("set");
    // After set_members, which drops the room lists of those it names.
    directory.rooms_of(UserId::new(1)).await.expect("answer");

    let raw = raw_client(settings.url.expose_secret()).await;
    let fourteen_days = 14 * 24 * 60 * 60;
    for key in [
        format!("{}R5", settings.member_cache_prefix),
        format!("{}CH3", settings.member_cache_prefix),
    ] {
        let ttl: i64 = raw.ttl(&key).await.expect("ttl");
        assert!(
            (fourteen_days - 60..=fourteen_days).contains(&ttl),
            "{key} expires in {ttl} s"
        );
    }
    let ttl: i64 = raw
        .ttl(format!("{}UR1", settings.key_prefix))
        .await
        .expect("ttl");
    assert!((50..=60).contains(&ttl), "the room list expires in {ttl} s");
}

#[tokio::test]
async fn an_expired_member_list_is_fetched_again() {
    let settings = RedisSettings {
        member_cache_ttl_seconds: 1,
        ..fresh_settings()
    };
    let directory = cached(
        FakeDirectory::with_members(Audience::Direct(ROOM), &[1]),
        &settings,
    )
    .await;
    directory
        .may_post(UserId::new(1), RoomRef::Direct(ROOM))
        .await
        .expect("answer");
    directory
        .may_post(UserId::new(1), RoomRef::Direct(ROOM))
        .await
        .expect("answer");
    assert_eq!(FakeDirectory::count(&directory.inner().members_of), 1);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    directory
        .may_post(UserId::new(1), RoomRef::Direct(ROOM))
        .await
        .expect("answer");
    assert_eq!(FakeDirectory::count(&directory.inner().members_of), 2);
}

#[tokio::test]
async fn member_lists_written_by_the_seed_are_read() {
    let settings = fresh_settings();
    let raw = raw_client(settings.url.expose_secret()).await;
    let seed_values = [
        r#"{"@class":"com.example.chatserver.dto.response.CommunityFeignResponse$UserIdResponse","members":[1,2,3]}"#,
        r#"{"@class":"com.example.chatserver.dto.response.CommunityFeignResponse$UserIdResponse","members":["java.util.ArrayList",[1,2,3]]}"#,
    ];
    for (room, value) in (100_u64..).zip(seed_values) {
        let _: () = raw
            .set(
                format!("{}R{room}", settings.member_cache_prefix),
                value,
                None,
                None,
                false,
            )
            .await
            .expect("set");
        let directory = cached(FakeDirectory::default(), &settings).await;
        let room = RoomRef::Direct(RoomId::new(room));
        assert!(
            directory
                .may_post(UserId::new(2), room)
                .await
                .expect("answer")
        );
        assert!(
            !directory
                .may_post(UserId::new(9), room)
                .await
                .expect("answer")
        );
        assert_eq!(FakeDirectory::count(&directory.inner().members_of), 0);
        assert_eq!(FakeDirectory::count(&directory.inner().may_post), 0);
    }
}

#[tokio::test]
async fn an_unreadable_cached_value_is_fetched_again_and_overwritten() {
    let settings = fresh_settings();
    let raw = raw_client(settings.url.expose_secret()).await;
    let key = format!("{}R5", settings.member_cache_prefix);
    let _: () = raw
        .set(&key, "not json", None, None, false)
        .await
        .expect("set");
    let directory = cached(
        FakeDirectory::with_members(Audience::Direct(ROOM), &[1]),
        &settings,
    )
    .await;
    assert!(
        directory
            .may_post(UserId::new(1), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert_eq!(FakeDirectory::count(&directory.inner().members_of), 1);
    let stored: String = raw.get(&key).await.expect("get");
    assert!(stored.contains(r#""members":[1]"#), "{stored}");
}

#[tokio::test]
async fn a_group_the_directory_does_not_restrict_is_left_to_its_own_check() {
    let settings = fresh_settings();
    let directory = cached(FakeDirectory::default(), &settings).await;
    assert!(
        directory
            .may_post(UserId::new(1), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        directory
            .may_listen(UserId::new(1), Audience::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert_eq!(FakeDirectory::count(&directory.inner().may_post), 1);
    assert_eq!(FakeDirectory::count(&directory.inner().may_listen), 1);

    let raw = raw_client(settings.url.expose_secret()).await;
    let cached: Option<String> = raw
        .get(format!("{}R5", settings.member_cache_prefix))
        .await
        .expect("get");
    assert_eq!(cached, None, "nothing is cached for an unrestricted group");
}

#[tokio::test]
async fn asking_whether_a_post_is_allowed_places_no_channel_in_a_community() {
    let settings = fresh_settings();
    let group = Audience::Community(COMMUNITY);
    let directory = cached(FakeDirectory::with_members(group, &[1]), &settings).await;

    let outsider = directory
        .may_post(UserId::new(9), IN_CHANNEL)
        .await
        .expect("answer");
    let member = directory
        .may_post(UserId::new(1), IN_CHANNEL)
        .await
        .expect("answer");

    assert!(!outsider && member);
    let raw = raw_client(settings.url.expose_secret()).await;
    let stored: Option<String> = raw
        .get(format!("{}CC12", settings.key_prefix))
        .await
        .expect("get");
    assert_eq!(stored, None, "a post is no source of a channel's community");
    assert_eq!(
        directory.channel_community(CHANNEL).await.expect("answer"),
        None
    );
}

#[tokio::test]
async fn a_channel_placed_by_the_directory_behind_is_cached_for_every_instance_and_heard_by_its_community()
 {
    let settings = fresh_settings();
    let group = Audience::Community(COMMUNITY);
    let inner = FakeDirectory::with_members(group, &[1]);
    inner.channels.lock().unwrap().insert(CHANNEL, COMMUNITY);
    let first = cached(inner, &settings).await;
    assert_eq!(
        first.channel_community(CHANNEL).await.expect("answer"),
        Some(COMMUNITY)
    );

    // Another instance finds it in Redis, and its own directory is not asked.
    let second = cached(FakeDirectory::with_members(group, &[1]), &settings).await;
    let outsider = second
        .may_listen(UserId::new(9), Audience::Group(CHANNEL))
        .await
        .expect("answer");
    let member = second
        .may_listen(UserId::new(1), Audience::Group(CHANNEL))
        .await
        .expect("answer");

    assert!(!outsider && member);
    assert_eq!(FakeDirectory::count(&second.inner().channel_community), 0);
    let raw = raw_client(settings.url.expose_secret()).await;
    let ttl: i64 = raw
        .ttl(format!("{}CC12", settings.key_prefix))
        .await
        .expect("ttl");
    let fourteen_days = 14 * 24 * 60 * 60;
    assert!(
        (fourteen_days - 60..=fourteen_days).contains(&ttl),
        "a lookup is cached like a member list, expiring in {ttl} s"
    );
}

#[tokio::test]
async fn a_registered_channel_is_shared_by_every_instance_and_never_expires() {
    let settings = fresh_settings();
    let first = cached(FakeDirectory::default(), &settings).await;
    first
        .bind_channel(CHANNEL, CommunityId::new(4))
        .await
        .expect("bound");

    first.set_channel(CHANNEL, COMMUNITY).await.expect("set");

    let second = cached(FakeDirectory::default(), &settings).await;
    assert_eq!(
        second.channel_community(CHANNEL).await.expect("answer"),
        Some(COMMUNITY),
        "a registration replaces a binding"
    );
    let raw = raw_client(settings.url.expose_secret()).await;
    let ttl: i64 = raw
        .ttl(format!("{}CC12", settings.key_prefix))
        .await
        .expect("ttl");
    assert_eq!(ttl, -1, "no source could tell a registration again");
}

#[tokio::test]
async fn a_channel_is_bound_once_whichever_instance_binds_it_first() {
    let settings = fresh_settings();
    let first = cached(FakeDirectory::default(), &settings).await;
    let second = cached(FakeDirectory::default(), &settings).await;

    let (a, b) = tokio::join!(
        first.bind_channel(CHANNEL, COMMUNITY),
        second.bind_channel(CHANNEL, CommunityId::new(4))
    );
    let again = first
        .bind_channel(CHANNEL, CommunityId::new(5))
        .await
        .expect("answer");

    let (a, b) = (a.expect("answer"), b.expect("answer"));
    assert_eq!(a, b, "both instances agree");
    assert_eq!(again, a, "a bound channel is never bound again");
    assert_eq!(
        second.channel_community(CHANNEL).await.expect("answer"),
        Some(a)
    );
}

#[tokio::test]
async fn room_lists_are_cached_and_dropped_for_those_whose_groups_changed() {
    let settings = fresh_settings();
    let inner = FakeDirectory::default();
    inner.rooms.lock().unwrap().extend([
        (UserId::new(1), vec![Audience::Direct(ROOM)]),
        (UserId::new(2), vec![Audience::Direct(ROOM)]),
    ]);
    let directory = cached(inner, &settings).await;
    for _ in 0..2 {
        for user in [1, 2] {
            assert_eq!(
                directory.rooms_of(UserId::new(user)).await.expect("answer"),
                vec![Audience::Direct(ROOM)]
            );
        }
    }
    assert_eq!(FakeDirectory::count(&directory.inner().rooms_of), 2);

    directory
        .set_members(Audience::Community(COMMUNITY), users(&[1, 2]))
        .await
        .expect("set");
    directory
        .set_members(Audience::Community(COMMUNITY), users(&[1]))
        .await
        .expect("set");
    // Both were dropped by the first change; only user 2 changed in the second.
    directory.rooms_of(UserId::new(1)).await.expect("answer");
    directory.rooms_of(UserId::new(2)).await.expect("answer");
    assert_eq!(FakeDirectory::count(&directory.inner().rooms_of), 4);
    directory.rooms_of(UserId::new(1)).await.expect("answer");
    directory.rooms_of(UserId::new(2)).await.expect("answer");
    assert_eq!(FakeDirectory::count(&directory.inner().rooms_of), 4);
}

#[tokio::test]
async fn with_redis_down_the_directory_behind_the_cache_answers() {
    let mut redis = PrivateRedis::start();
    let settings = RedisSettings {
        command_timeout_ms: 500,
        ..RedisSettings::new(redis.url())
    };
    let inner = FakeDirectory::with_members(Audience::Direct(ROOM), &[1]);
    inner
        .rooms
        .lock()
        .unwrap()
        .insert(UserId::new(1), vec![Audience::Direct(ROOM)]);
    let directory = cached(inner, &settings).await;
    redis.kill();

    let started = Instant::now();
    assert!(
        directory
            .may_post(UserId::new(1), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        !directory
            .may_post(UserId::new(2), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        !directory
            .may_listen(UserId::new(2), Audience::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert_eq!(
        directory.rooms_of(UserId::new(1)).await.expect("answer"),
        vec![Audience::Direct(ROOM)]
    );
    assert_eq!(
        directory
            .members_of(Audience::Direct(ROOM))
            .await
            .expect("answer"),
        Some(users(&[1]))
    );
    directory
        .set_members(Audience::Direct(ROOM), users(&[2]))
        .await
        .expect("a Redis outage alone is no error");
    assert!(
        directory
            .may_post(UserId::new(2), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "falling back took {:?}",
        started.elapsed()
    );
    let inner = directory.inner();
    assert_eq!(FakeDirectory::count(&inner.rooms_of), 1);
    assert_eq!(FakeDirectory::count(&inner.set_members), 1);
}

#[tokio::test]
async fn with_redis_down_nobody_is_let_in_where_only_redis_could_tell() {
    let mut redis = PrivateRedis::start();
    let settings = RedisSettings {
        command_timeout_ms: 500,
        ..RedisSettings::new(redis.url())
    };
    // Behind the cache, a directory that restricts nothing (the open one): while Redis is up,
    // a member list stored there restricts the room; while it is down, nobody can tell.
    let directory = cached(FakeDirectory::default(), &settings).await;
    directory
        .set_members(Audience::Direct(ROOM), users(&[1]))
        .await
        .expect("set");
    let other_instance = cached(FakeDirectory::default(), &settings).await;
    other_instance
        .bind_channel(CHANNEL, COMMUNITY)
        .await
        .expect("bound");
    assert!(
        !other_instance
            .may_post(UserId::new(9), RoomRef::Direct(ROOM))
            .await
            .expect("answer")
    );
    redis.kill();

    let post = other_instance
        .may_post(UserId::new(9), RoomRef::Direct(ROOM))
        .await;
    let listen = other_instance
        .may_listen(UserId::new(9), Audience::Group(CHANNEL))
        .await;
    let bind = other_instance
        .bind_channel(ChannelId::new(13), COMMUNITY)
        .await;

    assert!(
        matches!(post, Err(DirectoryError::Unavailable(_))),
        "{post:?}"
    );
    assert!(
        matches!(listen, Err(DirectoryError::Unavailable(_))),
        "{listen:?}"
    );
    assert!(
        matches!(bind, Err(DirectoryError::Unavailable(_))),
        "{bind:?}"
    );
}

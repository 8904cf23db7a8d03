//! [`RedisCachedDirectory`]: the member lists, room lists and channel communities of a
//! community directory cached in Redis, shared by every instance, under the seed's keys; the
//! directory behind it answers whatever the cache cannot. While Redis is down it answers only
//! from what that directory itself knows: never "everyone is a member".

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::anyhow;

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};
use fred::interfaces::KeysInterface as _;
use fred::prelude::{Expiration, SetOptions};
use futures::StreamExt as _;

use crate::cache_keys::CacheKeys;
use crate::connection::RedisConnection;
use crate::outage_log::OutageLog;
use crate::settings::RedisSettings;
use crate::{member_list, room_list};

/// Room-list keys dropped at once when a member list changes.
const PARALLEL_DELETES: usize = 16;

/// What the cache holds for a member list.
enum Lookup {
    Hit(Vec<UserId>),
    /// Nothing usable; `malformed` when something unreadable is there (to be overwritten).
    Miss {
        malformed: bool,
    },
    /// Redis did not answer: ask the directory itself.
    Down,
}

/// A Redis outage where only Redis could tell: refuse rather than let everyone in.
fn redis_needed(what: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Unavailable(anyhow!(
        "Redis is unavailable and the directory behind it does not know {what}"
    ))
}

/// A [`CommunityDirectory`] in front of another one, caching in Redis:
///
/// * member lists under the seed's keys `R{roomId}` and `CH{communityId}` (seed JSON, 14 days by
///   default). `may_post` and `may_listen` answer from them; on a miss the list is fetched with
///   the inner directory's `members_of` and stored. A group the inner directory does not
///   restrict (`members_of` is `None`) is left to the inner directory's own check.
/// * which community a channel belongs to, under `{key_prefix}CC{channelId}`: the inner
///   directory's lookups (for `member_cache_ttl_seconds`, set if absent), the community
///   service's registrations and binding mode's bindings (set if absent, atomically across
///   instances), which never expire: no source could tell them again;
/// * room lists under `{key_prefix}UR{userId}`, briefly (60 s by default).
///
/// `set_members` (the community service's member-list PUTs) writes the inner directory, then
/// the cache, and drops the cached room lists of those who joined or left. Redis failures are
/// logged and the inner directory answers instead, but only from a member list or a channel
/// it knows itself: a group it does not restrict (the open directory) or a channel it cannot
/// place is refused as unavailable while Redis is down, since Redis may hold a member list or
/// binding that would refuse the user.
#[derive(Debug)]
pub struct RedisCachedDirectory<D: ?Sized> {
    inner: Arc<D>,
    connection: RedisConnection,
    keys: CacheKeys,
    member_ttl_seconds: i64,
    room_list_ttl_seconds: i64,
    outages: OutageLog,
}

impl<D: CommunityDirectory + ?Sized> RedisCachedDirectory<D> {
    /// Caches `inner` (shared, so that start-up may also probe it) in Redis. Makes no call.
    pub fn new(inner: Arc<D>, connection: RedisConnection, settings: &RedisSettings) -> Self {
        Self {
            inner,
            connection,
            keys: CacheKeys::new(&settings.member_cache_prefix, &settings.key_prefix),
            member_ttl_seconds: i64::try_from(settings.member_cache_ttl_seconds)
                .unwrap_or(i64::MAX),
            room_list_ttl_seconds: i64::try_from(settings.room_list_cache_ttl_seconds)
                .unwrap_or(i64::MAX),
            outages: OutageLog::new(),
        }
    }

    /// The directory behind the cache.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        self.connection
            .bounded("GET", self.connection.fail_fast().get(key))
            .await
    }

    async fn put(
        &self,
        key: String,
        value: String,
        ttl_seconds: i64,
        only_if_absent: bool,
    ) -> anyhow::Result<()> {
        let condition = only_if_absent.then_some(SetOptions::NX);
        let _: Option<String> = self
            .connection
            .bounded(
                "SET",
                self.connection.fail_fast().set(
                    key,
                    value,
                    Some(Expiration::EX(ttl_seconds)),
                    condition,
                    false,
                ),
            )
            .await?;
        Ok(())
    }

    async fn lookup_members(&self, key: &str) -> Lookup {
        match self.get(key).await {
            Ok(Some(text)) => {
                if let Some(members) = member_list::decode(&text) {
                    Lookup::Hit(members)
                } else {
                    tracing::warn!(key, "ignoring a cached member list that is not one");
                    Lookup::Miss { malformed: true }
                }
            }
            Ok(None) => Lookup::Miss { malformed: false },
            Err(error) => {
                self.outages.failed("reading a member list", &error);
                Lookup::Down
            }
        }
    }

    /// The members of a DM room or community: cached, else asked for and cached. `None` when
    /// the inner directory does not restrict the group and Redis holds no list for it. While
    /// Redis is down, the inner directory's own list, or an error when it keeps none.
    async fn members(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        let Some(key) = self.keys.members(group) else {
            return Ok(None);
        };
        let malformed = match self.lookup_members(&key).await {
            Lookup::Hit(members) => return Ok(Some(members)),
            Lookup::Down => {
                return match self.inner.members_of(group).await? {
                    Some(members) => Ok(Some(members)),
                    None => Err(redis_needed(format_args!("the members of {group}"))),
                };
            }
            Lookup::Miss { malformed } => malformed,
        };
        let Some(members) = self.inner.members_of(group).await? else {
            return Ok(None);
        };
        // A fill never overwrites a list that `set_members` stored meanwhile (NX), except an
        // unreadable one.
        if let Err(error) = self
            .put(
                key,
                member_list::encode(&members),
                self.member_ttl_seconds,
                !malformed,
            )
            .await
        {
            self.outages.failed("storing a member list", &error);
        }
        Ok(Some(members))
    }

    /// Stores `value` under `key` unless something is there, without expiry; whatever the key
    /// holds afterwards.
    async fn put_forever_if_absent(
        &self,
        key: &str,
        value: String,
    ) -> anyhow::Result<Option<String>> {
        let stored: Option<String> = self
            .connection
            .bounded(
                "SET",
                self.connection.fail_fast().set(
                    key,
                    value.clone(),
                    None,
                    Some(SetOptions::NX),
                    false,
                ),
            )
            .await?;
        if stored.is_some() {
            return Ok(Some(value));
        }
        self.get(key).await
    }

    /// The community Redis holds for `channel`: `Ok(None)` when none (or an unreadable value),
    /// `Err` when Redis did not answer.
    async fn cached_channel(&self, channel: ChannelId) -> anyhow::Result<Option<CommunityId>> {
        let Some(text) = self.get(&self.keys.channel_community(channel)).await? else {
            return Ok(None);
        };
        let community = CommunityId::parse(&text).ok();
        if community.is_none() {
            tracing::warn!(%channel, text, "ignoring a cached channel community that is not an id");
        }
        Ok(community)
    }

    /// Drops the cached room lists of `users` (their groups changed).
    async fn forget_room_lists(&self, users: impl Iterator<Item = UserId>) {
        let keys: Vec<String> = users.map(|user| self.keys.room_list(user)).collect();
        // One key per DEL: on a Redis Cluster the keys live in different slots.
        let failures: Vec<anyhow::Error> = futures::stream::iter(keys)
            .map(|key| async move {
                self.connection
                    .bounded("DEL", self.connection.fail_fast().del::<i64, _>(key))
                    .await
            })
            .buffer_unordered(PARALLEL_DELETES)
            .filter_map(|result| async move { result.err() })
            .collect()
            .await;
        if let Some(error) = failures.first() {
            self.outages.failed("dropping changed room lists", error);
        }
    }
}

#[async_trait::async_trait]
impl<D: CommunityDirectory + ?Sized> CommunityDirectory for RedisCachedDirectory<D> {
    #[tracing::instrument(name = "redis.directory.rooms_of", skip_all, fields(%user))]
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        let key = self.keys.room_list(user);
        match self.get(&key).await {
            Ok(Some(text)) => {
                if let Some(rooms) = room_list::decode(&text) {
                    return Ok(rooms);
                }
                tracing::warn!(key, "ignoring a cached room list that is not one");
            }
            Ok(None) => {}
            Err(error) => {
                self.outages.failed("reading a room list", &error);
                return self.inner.rooms_of(user).await;
            }
        }
        let rooms = self.inner.rooms_of(user).await?;
        if let Err(error) = self
            .put(
                key,
                room_list::encode(&rooms),
                self.room_list_ttl_seconds,
                false,
            )
            .await
        {
            self.outages.failed("storing a room list", &error);
        }
        Ok(rooms)
    }

    #[tracing::instrument(name = "redis.directory.may_post", skip_all, fields(%user, %room))]
    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        match self.members(room.lobby()).await? {
            Some(members) => Ok(members.contains(&user)),
            None => self.inner.may_post(user, room).await,
        }
    }

    #[tracing::instrument(name = "redis.directory.may_listen", skip_all, fields(%user, %audience))]
    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        let group = match audience {
            Audience::Group(channel) => match self.channel_community(channel).await? {
                Some(community) => Audience::Community(community),
                None => return self.inner.may_listen(user, audience).await,
            },
            other => other,
        };
        match self.members(group).await? {
            Some(members) => Ok(members.contains(&user)),
            None => self.inner.may_listen(user, group).await,
        }
    }

    #[tracing::instrument(name = "redis.directory.members_of", skip_all, fields(%group))]
    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        let resolved = match group {
            Audience::Group(channel) => match self.channel_community(channel).await? {
                Some(community) => Audience::Community(community),
                None => return self.inner.members_of(group).await,
            },
            other => other,
        };
        match self.members(resolved).await? {
            Some(members) => Ok(Some(members)),
            None => self.inner.members_of(resolved).await,
        }
    }

    #[tracing::instrument(name = "redis.directory.channel_community", skip_all, fields(%channel))]
    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError> {
        match self.cached_channel(channel).await {
            Ok(Some(community)) => return Ok(Some(community)),
            Ok(None) => {}
            Err(error) => {
                self.outages.failed("reading a channel's community", &error);
                // Only what the directory behind knows for itself: a binding lives in Redis.
                return match self.inner.channel_community(channel).await? {
                    Some(community) => Ok(Some(community)),
                    None => Err(redis_needed(format_args!("channel {channel}"))),
                };
            }
        }
        let found = self.inner.channel_community(channel).await?;
        if let Some(community) = found {
            // A fill never overwrites a registration or binding stored meanwhile (NX).
            if let Err(error) = self
                .put(
                    self.keys.channel_community(channel),
                    community.to_string(),
                    self.member_ttl_seconds,
                    true,
                )
                .await
            {
                self.outages.failed("storing a channel's community", &error);
            }
        }
        Ok(found)
    }

    #[tracing::instrument(name = "redis.directory.set_channel", skip_all, fields(%channel, %community))]
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError> {
        self.inner.set_channel(channel, community).await?;
        let key = self.keys.channel_community(channel);
        // No expiry: in binding mode no source could tell it again.
        let _: Option<String> = self
            .connection
            .bounded(
                "SET",
                self.connection
                    .fail_fast()
                    .set(key, community.to_string(), None, None, false),
            )
            .await
            .map_err(|error| {
                tracing::error!(
                    %channel,
                    error = format!("{error:#}"),
                    "could not store a registered channel in Redis"
                );
                DirectoryError::Unavailable(error)
            })?;
        Ok(())
    }

    #[tracing::instrument(name = "redis.directory.bind_channel", skip_all, fields(%channel, %community))]
    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        // Only in Redis, never locally: instances binding on their own while Redis is down
        // could place one channel in two communities.
        let key = self.keys.channel_community(channel);
        let bound = self
            .put_forever_if_absent(&key, community.to_string())
            .await
            .map_err(|error| {
                self.outages.failed("binding a channel", &error);
                DirectoryError::Unavailable(error)
            })?;
        match bound.as_deref().map(CommunityId::parse) {
            Some(Ok(bound)) => Ok(bound),
            _ => Err(DirectoryError::Unavailable(anyhow!(
                "{key} holds no community id after binding"
            ))),
        }
    }

    #[tracing::instrument(name = "redis.directory.set_members", skip_all, fields(%group, members = members.len()))]
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError> {
        self.inner.set_members(group, members.clone()).await?;
        let Some(key) = self.keys.members(group) else {
            return Ok(());
        };
        let old: Option<HashSet<UserId>> = match self.get(&key).await {
            Ok(text) => text
                .as_deref()
                .and_then(member_list::decode)
                .map(|old| old.into_iter().collect()),
            Err(error) => {
                self.outages.failed("reading a member list", &error);
                None
            }
        };
        if let Err(error) = self
            .put(
                key,
                member_list::encode(&members),
                self.member_ttl_seconds,
                false,
            )
            .await
        {
            // Worth more than the throttled warning: every instance keeps answering from the
            // previous list until it expires or the next PUT succeeds.
            tracing::error!(
                %group,
                error = format!("{error:#}"),
                "could not store a new member list in Redis: the cached one may be outdated until it expires"
            );
        }
        // Whoever joined or left has a different room list now: drop the cached ones, so the
        // lobby does not announce to (or skip) a group for up to a room-list TTL.
        let new: HashSet<UserId> = members.into_iter().collect();
        match old {
            Some(old) => {
                self.forget_room_lists(old.symmetric_difference(&new).copied())
                    .await;
            }
            None => self.forget_room_lists(new.iter().copied()).await,
        }
        Ok(())
    }
}

//! [`HttpCommunityDirectory`]: the port answered from the community service, with member lists,
//! room lists and channel lookups cached in memory and served stale while the service is down.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};

use crate::client::{CommunityClient, MemberGroup};
use crate::settings::CommunityHttpSettings;
use anyhow::anyhow;
use metric_names::Dependency;
use ttl_cache::{Cached, TtlCache};

/// Counts an answer given from an expired cache, or not given, because the service was down.
fn count_degraded() {
    metric_names::dependency_degraded(Dependency::CommunityService).increment(1);
}

/// Bounds on the caches, so a flood of distinct ids cannot exhaust memory. Far above the number
/// of rooms, communities and online users one instance serves.
const MEMBER_LISTS: usize = 100_000;
const ROOM_LISTS: usize = 100_000;
const CHANNELS: usize = 100_000;
/// Channels the service said it does not know: asked again after a short while (the service
/// may register them any moment), and few, so a flood of made-up ids costs little memory.
const UNKNOWN_CHANNELS: usize = 10_000;
const UNKNOWN_CHANNEL_TTL: Duration = Duration::from_secs(10);
/// Channels registered or bound on this instance. They are never evicted (an evicted binding
/// could be claimed again by another community), so past this bound new ones are refused.
const PLACED_CHANNELS: usize = 1_000_000;

type Members = Arc<HashSet<UserId>>;

/// Who belongs to which DM room and community, as the community service says.
///
/// Member lists are cached per room or community for `member_cache_ttl_seconds` (the seed's
/// Redis keys `R{roomId}` and `CH{communityId}` lived 14 days) and replaced by
/// [`set_members`](CommunityDirectory::set_members), which the community service triggers
/// through the member-list PUTs whenever membership changes. Room lists are cached for
/// `room_list_cache_ttl_seconds`. While the service is down or slow, an expired cached answer
/// is served with a warning; with nothing cached the call fails with
/// [`DirectoryError::Unavailable`]. Both are counted in
/// `chat_dependency_degraded_total{dependency="community_service"}`.
#[derive(Debug)]
pub struct HttpCommunityDirectory {
    client: CommunityClient,
    members: TtlCache<MemberGroup, Members>,
    room_lists: TtlCache<UserId, Vec<Audience>>,
    /// Which community a channel belongs to, as the service's lookup answered.
    channels: TtlCache<ChannelId, CommunityId>,
    /// Channels the lookup answered 404 for, briefly.
    unknown_channels: TtlCache<ChannelId, ()>,
    /// Channels registered through the service endpoint or bound in binding mode: known
    /// without asking, until registered again.
    placed: Mutex<HashMap<ChannelId, CommunityId>>,
    /// Whether the service offers the channel lookup (not in binding mode).
    channel_lookup: bool,
}

impl HttpCommunityDirectory {
    /// Builds the HTTP client (no request is made yet).
    ///
    /// # Errors
    /// When the settings are unusable (not an `http://` URL, zero timeout) or the client cannot
    /// be built.
    pub fn new(settings: &CommunityHttpSettings) -> anyhow::Result<Self> {
        Ok(Self {
            client: CommunityClient::new(settings)?,
            members: TtlCache::new(settings.member_cache_ttl(), MEMBER_LISTS),
            room_lists: TtlCache::new(settings.room_list_cache_ttl(), ROOM_LISTS),
            channels: TtlCache::new(settings.member_cache_ttl(), CHANNELS),
            unknown_channels: TtlCache::new(UNKNOWN_CHANNEL_TTL, UNKNOWN_CHANNELS),
            placed: Mutex::new(HashMap::new()),
            channel_lookup: true,
        })
    }

    /// For a service without the channel lookup (binding mode): channels are known only from
    /// registrations and bindings, and the service is never asked (whatever it would answer
    /// for a path it does not serve, it could not place a channel).
    #[must_use]
    pub fn without_channel_lookup(mut self) -> Self {
        self.channel_lookup = false;
        self
    }

    /// Whether the community service answers now (for readiness checks).
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.client.ping().await
    }

    /// The members of `group`: cached if fresh, else asked for, else cached if stale.
    async fn cached_members(&self, group: MemberGroup) -> Result<Members, DirectoryError> {
        let stale = match self.members.get(&group) {
            Some(Cached::Fresh(members)) => return Ok(members),
            Some(Cached::Stale(members)) => Some(members),
            None => None,
        };
        match self.client.members(group).await {
            Ok(members) => {
                let members: Members = Arc::new(members.into_iter().collect());
                self.members.put(group, Arc::clone(&members));
                Ok(members)
            }
            Err(error) => {
                count_degraded();
                match stale {
                    Some(members) => {
                        tracing::warn!(
                            ?group,
                            error = format!("{error:#}"),
                            "community service unavailable: serving a possibly outdated cached member list"
                        );
                        Ok(members)
                    }
                    None => Err(DirectoryError::Unavailable(error)),
                }
            }
        }
    }

    async fn is_member(&self, user: UserId, group: MemberGroup) -> Result<bool, DirectoryError> {
        Ok(self.cached_members(group).await?.contains(&user))
    }

    /// A panic while holding the lock cannot leave the map half-written (every change is one
    /// map operation), so a poisoned lock is still safe to use.
    fn placed(&self) -> std::sync::MutexGuard<'_, HashMap<ChannelId, CommunityId>> {
        self.placed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The group whose members hear `audience`; `None` for a channel no source places.
    async fn listeners(&self, audience: Audience) -> Result<Option<MemberGroup>, DirectoryError> {
        Ok(match audience {
            Audience::Direct(room) => Some(MemberGroup::Room(room)),
            Audience::Community(community) => Some(MemberGroup::Community(community)),
            Audience::Group(channel) => self
                .channel_community(channel)
                .await?
                .map(MemberGroup::Community),
        })
    }
}

#[async_trait::async_trait]
impl CommunityDirectory for HttpCommunityDirectory {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        let stale = match self.room_lists.get(&user) {
            Some(Cached::Fresh(rooms)) => return Ok(rooms),
            Some(Cached::Stale(rooms)) => Some(rooms),
            None => None,
        };
        match self.client.room_list(user).await {
            Ok(rooms) => {
                self.room_lists.put(user, rooms.clone());
                Ok(rooms)
            }
            Err(error) => {
                count_degraded();
                match stale {
                    Some(rooms) => {
                        tracing::warn!(
                            %user,
                            error = format!("{error:#}"),
                            "community service unavailable: serving a possibly outdated cached room list"
                        );
                        Ok(rooms)
                    }
                    None => Err(DirectoryError::Unavailable(error)),
                }
            }
        }
    }

    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        let group = match room {
            RoomRef::Direct(room) => MemberGroup::Room(room),
            // The caller checked that the channel belongs to this community; nothing about the
            // channel is learned from a post.
            RoomRef::Channel { community, .. } => MemberGroup::Community(community),
        };
        self.is_member(user, group).await
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        match self.listeners(audience).await? {
            Some(group) => self.is_member(user, group).await,
            // A channel no source places is heard by nobody.
            None => Ok(false),
        }
    }

    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        let Some(group) = self.listeners(group).await? else {
            // Nobody hears a channel no source places.
            return Ok(Some(Vec::new()));
        };
        let mut members: Vec<UserId> = self.cached_members(group).await?.iter().copied().collect();
        members.sort_unstable();
        Ok(Some(members))
    }

    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError> {
        let group = match group {
            Audience::Direct(room) => MemberGroup::Room(room),
            Audience::Community(community) => MemberGroup::Community(community),
            Audience::Group(channel) => {
                // Channels have no member list of their own (their community's applies).
                tracing::warn!(%channel, "ignoring a member list set for a channel");
                return Ok(());
            }
        };
        let members: Members = Arc::new(members.into_iter().collect());
        // Whoever joined or left has a different room list now: forget the cached ones, so the
        // lobby does not announce to (or skip) a group for up to a room-list TTL.
        if let Some(Cached::Fresh(old) | Cached::Stale(old)) = self.members.get(&group) {
            for user in old.symmetric_difference(&members) {
                self.room_lists.remove(user);
            }
        } else {
            for user in members.iter() {
                self.room_lists.remove(user);
            }
        }
        self.members.put(group, members);
        Ok(())
    }

    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError> {
        if let Some(community) = self.placed().get(&channel) {
            return Ok(Some(*community));
        }
        if !self.channel_lookup {
            return Ok(None);
        }
        let stale = match self.channels.get(&channel) {
            Some(Cached::Fresh(community)) => return Ok(Some(community)),
            Some(Cached::Stale(community)) => Some(community),
            None => None,
        };
        if stale.is_none() && matches!(self.unknown_channels.get(&channel), Some(Cached::Fresh(())))
        {
            return Ok(None);
        }
        match self.client.channel_community(channel).await {
            Ok(Some(community)) => {
                self.unknown_channels.remove(&channel);
                self.channels.put(channel, community);
                Ok(Some(community))
            }
            Ok(None) => {
                self.channels.remove(&channel);
                self.unknown_channels.put(channel, ());
                Ok(None)
            }
            Err(error) => {
                count_degraded();
                match stale {
                    Some(community) => {
                        tracing::warn!(
                            %channel,
                            error = format!("{error:#}"),
                            "community service unavailable: serving a cached channel lookup"
                        );
                        Ok(Some(community))
                    }
                    None => Err(DirectoryError::Unavailable(error)),
                }
            }
        }
    }

    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError> {
        let mut placed = self.placed();
        if placed.len() >= PLACED_CHANNELS && !placed.contains_key(&channel) {
            return Err(too_many_placed());
        }
        placed.insert(channel, community);
        drop(placed);
        self.unknown_channels.remove(&channel);
        self.channels.put(channel, community);
        Ok(())
    }

    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        let mut placed = self.placed();
        if let Some(bound) = placed.get(&channel) {
            return Ok(*bound);
        }
        if placed.len() >= PLACED_CHANNELS {
            return Err(too_many_placed());
        }
        placed.insert(channel, community);
        Ok(community)
    }
}

fn too_many_placed() -> DirectoryError {
    tracing::error!(
        max = PLACED_CHANNELS,
        "too many channels registered or bound on this instance: refusing new ones"
    );
    DirectoryError::Unavailable(anyhow!(
        "more than {PLACED_CHANNELS} channels registered or bound"
    ))
}

//! [`HttpCommunityDirectory`]: the port answered from the community service, with member lists
//! and room lists cached in memory and served stale while the service is down.

use std::collections::HashSet;
use std::sync::Arc;

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};

use crate::client::{CommunityClient, MemberGroup};
use crate::settings::CommunityHttpSettings;
use ttl_cache::{Cached, TtlCache};

/// The counter bootstrap describes (`bootstrap/src/metrics.rs`): answers given from an expired
/// cache, or not given, because the service was down.
const DEGRADED: &str = "chat_dependency_degraded_total";

fn count_degraded() {
    metrics::counter!(DEGRADED, "dependency" => "community_service").increment(1);
}

/// Bounds on the caches, so a flood of distinct ids cannot exhaust memory. Far above the number
/// of rooms, communities and online users one instance serves.
const MEMBER_LISTS: usize = 100_000;
const ROOM_LISTS: usize = 100_000;
const CHANNELS: usize = 100_000;

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
    /// Which community a channel belongs to, learned from posts: the service has no
    /// channel-to-community endpoint, and a channel never changes community.
    channels: TtlCache<ChannelId, CommunityId>,
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
        })
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
}

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
        match room {
            RoomRef::Direct(room) => self.is_member(user, MemberGroup::Room(room)).await,
            RoomRef::Channel { community, channel } => {
                // Remember the channel's community even if the post is refused: it is a fact
                // about the channel, not about the user, and `may_listen` needs it.
                self.channels.put(channel, community);
                self.is_member(user, MemberGroup::Community(community))
                    .await
            }
        }
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        let group = match audience {
            Audience::Direct(room) => MemberGroup::Room(room),
            Audience::Community(community) => MemberGroup::Community(community),
            Audience::Group(channel) => match self.channels.get(&channel) {
                Some(Cached::Fresh(community) | Cached::Stale(community)) => {
                    MemberGroup::Community(community)
                }
                // The service cannot tell us a channel's community, and we only learn it from a
                // post. Refusing unknown channels would stop everyone from listening to a quiet
                // channel after a restart, while the seed never checked subscriptions at all; so
                // an unknown channel is allowed. Posting is always checked, and once anyone posts
                // in the channel its listeners are checked too.
                None => return Ok(true),
            },
        };
        self.is_member(user, group).await
    }

    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        let group = match group {
            Audience::Direct(room) => MemberGroup::Room(room),
            Audience::Community(community) => MemberGroup::Community(community),
            Audience::Group(channel) => match self.channels.get(&channel) {
                Some(Cached::Fresh(community) | Cached::Stale(community)) => {
                    MemberGroup::Community(community)
                }
                // Unknown channels are not restricted (see `may_listen`).
                None => return Ok(None),
            },
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
}

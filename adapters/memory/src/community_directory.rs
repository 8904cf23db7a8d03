//! The embedded, open community directory: anyone may use any room until a member list is
//! set, and a channel nobody placed in a community is open to everyone.
//!
//! What clients name is bounded: each user's room list keeps the [`MAX_ROOMS_PER_USER`] rooms
//! they used most recently, the lists together hold at most [`MAX_ROOM_USES`] rooms (the users
//! silent longest are forgotten first), and at most [`MAX_PLACED_CHANNELS`] channels are placed
//! in communities (bindings are never forgotten, so past it new ones are refused). Member lists
//! come only from the community service's calls (the service token), not from clients.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use anyhow::anyhow;
use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};

use crate::lock;
use crate::recent_map::RecentMap;

/// Rooms and communities kept in one user's room list: the most recently used.
const MAX_ROOMS_PER_USER: usize = 1_000;
/// Users whose room lists are kept.
const MAX_USERS: usize = 100_000;
/// Rooms kept in all room lists together (about 30 to 60 bytes each).
const MAX_ROOM_USES: usize = 500_000;
/// Channels placed in a community (registered or bound); past it new ones are refused.
const MAX_PLACED_CHANNELS: usize = 1_000_000;

/// The bounds of the directory's maps.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    rooms_per_user: usize,
    room_uses: usize,
    placed_channels: usize,
}

#[derive(Debug)]
struct Directory {
    bounds: Bounds,
    /// Rooms and communities each user has used, the most recently used users and rooms.
    used: RecentMap<UserId, RecentMap<Audience, ()>>,
    /// Rooms in `used`, over every user.
    room_uses: usize,
    /// Member lists set explicitly (by the community service's PUT calls).
    members: HashMap<Audience, BTreeSet<UserId>>,
    /// Which community a channel belongs to: registered, or bound by an admitted first post
    /// (never learned from a refused one).
    channels: HashMap<ChannelId, CommunityId>,
}

impl Directory {
    /// A group without an explicit member list is open to everyone.
    fn admits(&self, group: Audience, user: UserId) -> bool {
        self.members
            .get(&group)
            .is_none_or(|members| members.contains(&user))
    }

    /// Puts `group` first in `user`'s room list, forgetting what the bounds no longer allow.
    fn record_use(&mut self, user: UserId, group: Audience) {
        let per_user = self.bounds.rooms_per_user;
        let (rooms, forgotten_users) = self
            .used
            .use_or_insert_with(user, || RecentMap::new(per_user));
        let before = rooms.len();
        rooms.use_or_insert_with(group, || ());
        let after = rooms.len();
        self.room_uses = self.room_uses + after - before;
        let mut forgotten = forgotten_users;
        loop {
            for (_, rooms) in forgotten {
                self.room_uses -= rooms.len();
            }
            if self.room_uses <= self.bounds.room_uses {
                return;
            }
            let tenth = self.used.len() / 10;
            forgotten = self.used.forget_least_recent(tenth);
            if forgotten.is_empty() {
                return;
            }
        }
    }

    /// Places `channel` in `community` unless the bound is reached.
    fn place(&mut self, channel: ChannelId, community: CommunityId) -> Result<(), DirectoryError> {
        if self.channels.len() >= self.bounds.placed_channels
            && !self.channels.contains_key(&channel)
        {
            tracing::error!(
                max = self.bounds.placed_channels,
                "too many channels placed in communities: refusing new ones"
            );
            return Err(DirectoryError::Unavailable(anyhow!(
                "more than {} channels placed in communities",
                self.bounds.placed_channels
            )));
        }
        self.channels.insert(channel, community);
        Ok(())
    }
}

/// Any authenticated user may use any room, unless a member list was set for the
/// DM room or community (then only its members may). A user's room list is the DM
/// rooms and communities they have used, plus the groups listing them as members;
/// that is where the lobby announces their presence.
#[derive(Debug)]
pub struct OpenCommunityDirectory {
    state: Mutex<Directory>,
}

impl OpenCommunityDirectory {
    fn bounded(bounds: Bounds, users: usize) -> Self {
        Self {
            state: Mutex::new(Directory {
                bounds,
                used: RecentMap::new(users),
                room_uses: 0,
                members: HashMap::new(),
                channels: HashMap::new(),
            }),
        }
    }
}

impl Default for OpenCommunityDirectory {
    fn default() -> Self {
        Self::bounded(
            Bounds {
                rooms_per_user: MAX_ROOMS_PER_USER,
                room_uses: MAX_ROOM_USES,
                placed_channels: MAX_PLACED_CHANNELS,
            },
            MAX_USERS,
        )
    }
}

#[async_trait::async_trait]
impl CommunityDirectory for OpenCommunityDirectory {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        let state = lock(&self.state);
        let mut rooms: BTreeSet<Audience> = state
            .used
            .peek(&user)
            .map(|used| used.keys().copied().collect())
            .unwrap_or_default();
        rooms.extend(
            state
                .members
                .iter()
                .filter(|(_, members)| members.contains(&user))
                .map(|(group, _)| *group),
        );
        Ok(rooms
            .into_iter()
            .filter(|group| state.admits(*group, user))
            .collect())
    }

    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        let mut state = lock(&self.state);
        let group = room.lobby();
        if !state.admits(group, user) {
            return Ok(false);
        }
        state.record_use(user, group);
        Ok(true)
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        let mut state = lock(&self.state);
        let group = match audience {
            // A channel is as open as its community, when we know which that is; a channel
            // nobody placed is open (this directory is the open one).
            Audience::Group(channel) => match state.channels.get(&channel) {
                Some(community) => Audience::Community(*community),
                None => return Ok(true),
            },
            other => other,
        };
        if !state.admits(group, user) {
            return Ok(false);
        }
        if !matches!(audience, Audience::Group(_)) {
            state.record_use(user, group);
        }
        Ok(true)
    }

    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        let state = lock(&self.state);
        let group = match group {
            Audience::Group(channel) => match state.channels.get(&channel) {
                Some(community) => Audience::Community(*community),
                None => return Ok(None),
            },
            other => other,
        };
        Ok(state
            .members
            .get(&group)
            .map(|members| members.iter().copied().collect()))
    }

    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError> {
        lock(&self.state)
            .members
            .insert(group, members.into_iter().collect());
        Ok(())
    }

    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError> {
        Ok(lock(&self.state).channels.get(&channel).copied())
    }

    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError> {
        lock(&self.state).place(channel, community)
    }

    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        let mut state = lock(&self.state);
        if let Some(bound) = state.channels.get(&channel) {
            return Ok(*bound);
        }
        state.place(channel, community)?;
        Ok(community)
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;

    const CHANNEL: RoomRef = RoomRef::Channel {
        community: CommunityId::new(3),
        channel: ChannelId::new(12),
    };

    #[tokio::test]
    async fn everyone_may_use_any_room_and_the_room_list_is_what_they_used() {
        let directory = OpenCommunityDirectory::default();
        let user = UserId::new(1);

        assert!(directory.may_post(user, CHANNEL).await.expect("answer"));
        assert!(
            directory
                .may_listen(user, Audience::Direct(RoomId::new(5)))
                .await
                .expect("answer")
        );
        assert!(
            directory
                .may_listen(user, Audience::Group(ChannelId::new(12)))
                .await
                .expect("answer")
        );

        assert_eq!(
            directory.rooms_of(user).await.expect("answer"),
            vec![
                Audience::Direct(RoomId::new(5)),
                Audience::Community(CommunityId::new(3))
            ]
        );
        assert!(
            directory
                .rooms_of(UserId::new(2))
                .await
                .expect("answer")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn once_a_member_list_is_set_only_members_may_use_the_group_and_its_channels() {
        let directory = OpenCommunityDirectory::default();
        let (member, outsider) = (UserId::new(1), UserId::new(9));
        assert!(directory.may_post(member, CHANNEL).await.expect("answer"));
        directory
            .bind_channel(ChannelId::new(12), CommunityId::new(3))
            .await
            .expect("bound");
        directory
            .set_members(Audience::Community(CommunityId::new(3)), vec![member])
            .await
            .expect("set");

        assert!(directory.may_post(member, CHANNEL).await.expect("answer"));
        assert!(!directory.may_post(outsider, CHANNEL).await.expect("answer"));
        assert!(
            !directory
                .may_listen(outsider, Audience::Group(ChannelId::new(12)))
                .await
                .expect("answer")
        );
        assert!(
            !directory
                .may_listen(outsider, Audience::Community(CommunityId::new(3)))
                .await
                .expect("answer")
        );
        assert!(
            directory
                .rooms_of(outsider)
                .await
                .expect("answer")
                .is_empty()
        );
        assert_eq!(
            directory.rooms_of(member).await.expect("answer"),
            vec![Audience::Community(CommunityId::new(3))]
        );
    }

    #[tokio::test]
    async fn members_are_known_only_for_groups_with_a_member_list() {
        let directory = OpenCommunityDirectory::default();
        let community = Audience::Community(CommunityId::new(3));
        assert_eq!(
            directory.members_of(community).await.expect("answer"),
            None,
            "an open group has no member list"
        );
        directory
            .set_members(community, vec![UserId::new(2), UserId::new(1)])
            .await
            .expect("set");
        let members = Some(vec![UserId::new(1), UserId::new(2)]);
        assert_eq!(
            directory.members_of(community).await.expect("answer"),
            members
        );
        assert_eq!(
            directory
                .members_of(Audience::Group(ChannelId::new(12)))
                .await
                .expect("answer"),
            None,
            "a channel whose community is unknown"
        );
        directory
            .bind_channel(ChannelId::new(12), CommunityId::new(3))
            .await
            .expect("bound");
        assert_eq!(
            directory
                .members_of(Audience::Group(ChannelId::new(12)))
                .await
                .expect("answer"),
            members,
            "a channel has its community's members once the community is known"
        );
    }

    #[tokio::test]
    async fn asking_whether_a_post_is_allowed_places_no_channel_in_a_community() {
        let directory = OpenCommunityDirectory::default();
        let (member, outsider) = (UserId::new(1), UserId::new(9));
        directory
            .set_members(Audience::Community(CommunityId::new(3)), vec![member])
            .await
            .expect("set");

        assert!(!directory.may_post(outsider, CHANNEL).await.expect("answer"));
        assert!(directory.may_post(member, CHANNEL).await.expect("answer"));

        assert_eq!(
            directory
                .channel_community(ChannelId::new(12))
                .await
                .expect("answer"),
            None
        );
    }

    #[tokio::test]
    async fn a_channel_is_bound_once_and_moved_only_by_registration() {
        let directory = OpenCommunityDirectory::default();
        let channel = ChannelId::new(12);
        let (first, second) = (CommunityId::new(3), CommunityId::new(4));

        let bound = directory.bind_channel(channel, first).await.expect("bound");
        let rebound = directory
            .bind_channel(channel, second)
            .await
            .expect("bound");
        directory.set_channel(channel, second).await.expect("set");

        assert_eq!((bound, rebound), (first, first));
        assert_eq!(
            directory.channel_community(channel).await.expect("answer"),
            Some(second)
        );
    }

    fn small(rooms_per_user: usize, room_uses: usize, users: usize) -> OpenCommunityDirectory {
        OpenCommunityDirectory::bounded(
            Bounds {
                rooms_per_user,
                room_uses,
                placed_channels: 2,
            },
            users,
        )
    }

    fn dm(room: u64) -> Audience {
        Audience::Direct(RoomId::new(room))
    }

    #[tokio::test]
    async fn a_room_list_keeps_the_rooms_its_user_used_most_recently() {
        let directory = small(10, 1000, 10);
        let user = UserId::new(1);
        for room in 0..10 {
            directory.may_listen(user, dm(room)).await.expect("answer");
        }
        directory.may_listen(user, dm(0)).await.expect("answer");

        directory.may_listen(user, dm(10)).await.expect("answer");

        let rooms = directory.rooms_of(user).await.expect("answer");
        assert_eq!(rooms.len(), 10);
        assert!(rooms.contains(&dm(0)) && rooms.contains(&dm(10)));
        assert!(!rooms.contains(&dm(1)), "the least recently used room went");
    }

    #[tokio::test]
    async fn past_the_total_the_room_lists_of_the_users_silent_longest_are_forgotten() {
        let directory = small(100, 50, 1000);
        for user in 0..10 {
            for room in 0..5 {
                directory
                    .may_listen(UserId::new(user), dm(room))
                    .await
                    .expect("answer");
            }
        }

        directory
            .may_listen(UserId::new(10), dm(0))
            .await
            .expect("answer");

        let first = directory.rooms_of(UserId::new(0)).await.expect("answer");
        let second = directory.rooms_of(UserId::new(1)).await.expect("answer");
        let newest = directory.rooms_of(UserId::new(10)).await.expect("answer");
        assert!(first.is_empty(), "{first:?}");
        assert_eq!(second.len(), 5);
        assert_eq!(newest, [dm(0)]);
    }

    #[tokio::test]
    async fn past_the_bound_no_new_channel_is_placed_and_placed_ones_stay() {
        let directory = small(10, 100, 10);
        let community = CommunityId::new(3);
        directory
            .set_channel(ChannelId::new(1), community)
            .await
            .expect("set");
        directory
            .bind_channel(ChannelId::new(2), community)
            .await
            .expect("bound");

        let third = directory.bind_channel(ChannelId::new(3), community).await;
        let again = directory
            .bind_channel(ChannelId::new(2), CommunityId::new(4))
            .await;
        let moved = directory
            .set_channel(ChannelId::new(1), CommunityId::new(4))
            .await;

        assert!(
            matches!(third, Err(DirectoryError::Unavailable(_))),
            "{third:?}"
        );
        assert_eq!(again.expect("known"), community);
        assert!(moved.is_ok(), "a placed channel may still be moved");
    }
}

//! The embedded, open community directory: anyone may use any room until a member list is
//! set, and a channel nobody placed in a community is open to everyone.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};

use crate::lock;

#[derive(Debug, Default)]
struct Directory {
    /// Rooms and communities each user has used.
    used: HashMap<UserId, BTreeSet<Audience>>,
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
}

/// Any authenticated user may use any room, unless a member list was set for the
/// DM room or community (then only its members may). A user's room list is the DM
/// rooms and communities they have used, plus the groups listing them as members;
/// that is where the lobby announces their presence.
#[derive(Debug, Default)]
pub struct OpenCommunityDirectory {
    state: Mutex<Directory>,
}

#[async_trait::async_trait]
impl CommunityDirectory for OpenCommunityDirectory {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        let state = lock(&self.state);
        let mut rooms: BTreeSet<Audience> = state.used.get(&user).cloned().unwrap_or_default();
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
        state.used.entry(user).or_default().insert(group);
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
            state.used.entry(user).or_default().insert(group);
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
        lock(&self.state).channels.insert(channel, community);
        Ok(())
    }

    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        Ok(*lock(&self.state)
            .channels
            .entry(channel)
            .or_insert(community))
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
}

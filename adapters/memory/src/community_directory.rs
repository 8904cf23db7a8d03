//! The embedded, open community directory.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, RoomRef, UserId};

use crate::lock;

/// Any authenticated user may use any room. A user's room list is the DM rooms and
/// communities they have posted in or listened to, which is what the lobby announces
/// their presence to.
#[derive(Debug, Default)]
pub struct OpenCommunityDirectory {
    used: Mutex<HashMap<UserId, BTreeSet<Audience>>>,
}

impl OpenCommunityDirectory {
    fn remember(&self, user: UserId, audience: Audience) {
        lock(&self.used).entry(user).or_default().insert(audience);
    }
}

impl CommunityDirectory for OpenCommunityDirectory {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        Ok(lock(&self.used)
            .get(&user)
            .map(|rooms| rooms.iter().copied().collect())
            .unwrap_or_default())
    }

    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        self.remember(user, room.lobby());
        Ok(true)
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        // A text channel alone does not say which community it belongs to.
        if !matches!(audience, Audience::Group(_)) {
            self.remember(user, audience);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, CommunityId, RoomId};

    use super::*;

    #[tokio::test]
    async fn everyone_may_use_any_room_and_the_room_list_is_what_they_used() {
        let directory = OpenCommunityDirectory::default();
        let user = UserId::new(1);
        let channel = RoomRef::Channel {
            community: CommunityId::new(3),
            channel: ChannelId::new(12),
        };

        assert!(directory.may_post(user, channel).await.expect("answer"));
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
}

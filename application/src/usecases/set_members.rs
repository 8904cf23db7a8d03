//! Use case: the community service says who the members of a DM room or community now are.
//!
//! Open subscriptions on this instance are told at once, so a removed member stops
//! hearing the group now; other instances find out on their periodic re-check
//! (`stomp.reauthorize_interval_ms`), which reads the same shared member lists.

use std::sync::Arc;

use domain::{Audience, UserId};

use crate::ports::outbound::{CommunityDirectory, DirectoryError, RoomBroadcaster};

/// Every way [`SetMembers::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum SetMembersError {
    /// Only DM rooms and communities have member lists.
    #[error("{0} has no member list of its own")]
    NotAGroup(Audience),
    /// More members than [`SetMembers::MAX_MEMBERS`].
    #[error("at most {max} members, got {got}")]
    TooManyMembers {
        /// Members given.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The directory failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(SetMembersError: DirectoryError);

/// Replaces the known member list of a DM room or a community.
pub struct SetMembers {
    directory: Arc<dyn CommunityDirectory>,
    broadcaster: Arc<dyn RoomBroadcaster>,
}

impl SetMembers {
    /// Largest member list accepted.
    pub const MAX_MEMBERS: usize = 100_000;

    /// Wires the use case to the directory and this instance's subscribers.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        broadcaster: Arc<dyn RoomBroadcaster>,
    ) -> Self {
        Self {
            directory,
            broadcaster,
        }
    }

    /// Runs the use case.
    pub async fn execute(
        &self,
        group: Audience,
        mut members: Vec<UserId>,
    ) -> Result<(), SetMembersError> {
        if matches!(group, Audience::Group(_)) {
            return Err(SetMembersError::NotAGroup(group));
        }
        if members.len() > Self::MAX_MEMBERS {
            return Err(SetMembersError::TooManyMembers {
                got: members.len(),
                max: Self::MAX_MEMBERS,
            });
        }
        members.sort_unstable();
        members.dedup();
        self.directory.set_members(group, members).await?;
        self.broadcaster.membership_changed(group);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, CommunityId, RoomId};

    use super::*;
    use crate::usecases::test_support::{ALICE, BOB, MocksBuilder};

    #[tokio::test]
    async fn a_community_member_list_is_stored_without_duplicates() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_set_members()
            .withf(|group, members| {
                *group == Audience::Community(CommunityId::new(3)) && members == &[ALICE, BOB]
            })
            .times(1)
            .returning(|_, _| Ok(()));
        m.broadcaster.expect_membership_changed().return_const(());
        let m = m.build();

        let result = SetMembers::new(m.directory, m.broadcaster)
            .execute(
                Audience::Community(CommunityId::new(3)),
                vec![BOB, ALICE, BOB],
            )
            .await;

        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn local_subscribers_are_told_once_the_new_member_list_is_stored() {
        let mut m = MocksBuilder::new();
        let mut order = mockall::Sequence::new();
        m.directory
            .expect_set_members()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        m.broadcaster
            .expect_membership_changed()
            .withf(|group| *group == Audience::Direct(RoomId::new(5)))
            .times(1)
            .in_sequence(&mut order)
            .return_const(());
        let m = m.build();

        SetMembers::new(m.directory, m.broadcaster)
            .execute(Audience::Direct(RoomId::new(5)), vec![ALICE])
            .await
            .expect("stored");
    }

    #[tokio::test]
    async fn a_member_list_the_directory_did_not_take_changes_no_subscription() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_set_members()
            .returning(|_, _| Err(DirectoryError::Unavailable(anyhow::anyhow!("down"))));
        m.broadcaster.expect_membership_changed().never();
        let m = m.build();

        let err = SetMembers::new(m.directory, m.broadcaster)
            .execute(Audience::Direct(RoomId::new(5)), vec![ALICE])
            .await;

        assert!(matches!(err, Err(SetMembersError::Unavailable(_))));
    }

    #[tokio::test]
    async fn a_channel_has_no_member_list_of_its_own() {
        let mut m = MocksBuilder::new();
        m.directory.expect_set_members().never();
        m.broadcaster.expect_membership_changed().never();
        let m = m.build();

        let err = SetMembers::new(m.directory, m.broadcaster)
            .execute(Audience::Group(ChannelId::new(12)), vec![ALICE])
            .await;

        assert!(matches!(err, Err(SetMembersError::NotAGroup(_))));
    }
}

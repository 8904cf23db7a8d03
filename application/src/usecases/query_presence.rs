//! Use case: which of these users, among those who share a room with the caller, are online?

use std::collections::HashSet;
use std::sync::Arc;

use domain::{Audience, UserId};
use futures::{StreamExt as _, TryStreamExt as _};

use crate::ports::outbound::{CommunityDirectory, DirectoryError, PresenceError, PresenceStore};

/// One user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPresence {
    /// Who.
    pub user: UserId,
    /// Whether any of their sessions is open.
    pub online: bool,
}

/// Every way [`QueryPresence::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum PresenceQueryError {
    /// More users than [`QueryPresence::MAX_USERS`].
    #[error("at most {max} users per request, got {got}")]
    TooManyUsers {
        /// Users asked for.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The presence store failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(PresenceQueryError: PresenceError, DirectoryError);

/// Room lists of asked users fetched at once.
const ROOM_LISTS_AT_ONCE: usize = 16;

/// Answers online/offline, in the order asked, for the asked users who share a DM room or
/// a community with the caller (the rooms the directory's `rooms_of` lists for both), and
/// for the caller themselves. Anyone else is left out of the answer, online or not: a
/// stranger's presence is not the caller's business, and "offline" would be a lie.
pub struct QueryPresence {
    directory: Arc<dyn CommunityDirectory>,
    presence: Arc<dyn PresenceStore>,
}

impl QueryPresence {
    /// Most users in one request.
    pub const MAX_USERS: usize = 200;

    /// Wires the use case to the directory and the presence store.
    pub fn new(directory: Arc<dyn CommunityDirectory>, presence: Arc<dyn PresenceStore>) -> Self {
        Self {
            directory,
            presence,
        }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "query_presence", skip_all, fields(caller = %caller, users = users.len()))]
    pub async fn execute(
        &self,
        caller: UserId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserPresence>, PresenceQueryError> {
        if users.len() > Self::MAX_USERS {
            return Err(PresenceQueryError::TooManyUsers {
                got: users.len(),
                max: Self::MAX_USERS,
            });
        }
        let visible = self.sharing_a_room(caller, &users).await?;
        let users: Vec<UserId> = users
            .into_iter()
            .filter(|user| visible.contains(user))
            .collect();
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let online = self.presence.online_among(&users).await?;
        Ok(users
            .into_iter()
            .map(|user| UserPresence {
                user,
                online: online.contains(&user),
            })
            .collect())
    }

    /// The caller and those of `users` who share a DM room or community with them.
    async fn sharing_a_room(
        &self,
        caller: UserId,
        users: &[UserId],
    ) -> Result<HashSet<UserId>, DirectoryError> {
        let mut visible = HashSet::from([caller]);
        let others: HashSet<UserId> = users.iter().copied().filter(|u| *u != caller).collect();
        if others.is_empty() {
            return Ok(visible);
        }
        let directory = &*self.directory;
        let own: HashSet<Audience> = directory.rooms_of(caller).await?.into_iter().collect();
        if own.is_empty() {
            return Ok(visible);
        }
        let sharing: Vec<Option<UserId>> = futures::stream::iter(others.into_iter().map(|user| {
            let own = &own;
            async move {
                let theirs = directory.rooms_of(user).await?;
                Ok::<_, DirectoryError>(
                    theirs.iter().any(|room| own.contains(room)).then_some(user),
                )
            }
        }))
        .buffer_unordered(ROOM_LISTS_AT_ONCE)
        .try_collect()
        .await?;
        visible.extend(sharing.into_iter().flatten());
        Ok(visible)
    }
}

#[cfg(test)]
mod tests {
    use domain::{CommunityId, RoomId};

    use super::*;
    use crate::usecases::test_support::{ALICE, BOB, MocksBuilder};

    const CAROL: UserId = UserId::new(3);
    const ROOM: Audience = Audience::Direct(RoomId::new(5));
    const COMMUNITY: Audience = Audience::Community(CommunityId::new(9));

    /// Alice is in ROOM with Bob; Carol is only in COMMUNITY.
    fn rooms(m: &mut MocksBuilder) {
        m.directory.expect_rooms_of().returning(|user| {
            Ok(match user.get() {
                1 => vec![ROOM],
                2 => vec![ROOM, COMMUNITY],
                3 => vec![COMMUNITY],
                _ => vec![],
            })
        });
    }

    #[tokio::test]
    async fn users_sharing_a_room_are_reported_online_or_offline_in_the_order_asked() {
        let mut m = MocksBuilder::new();
        rooms(&mut m);
        m.presence
            .expect_online_among()
            .returning(|_| Ok(vec![BOB]));
        let m = m.build();

        let presence = QueryPresence::new(m.directory, m.presence)
            .execute(ALICE, vec![ALICE, BOB])
            .await
            .expect("answered");

        assert_eq!(
            presence,
            vec![
                UserPresence {
                    user: ALICE,
                    online: false
                },
                UserPresence {
                    user: BOB,
                    online: true
                }
            ]
        );
    }

    #[tokio::test]
    async fn a_stranger_is_left_out_and_never_looked_up() {
        let mut m = MocksBuilder::new();
        rooms(&mut m);
        m.presence
            .expect_online_among()
            .withf(|users| users == [BOB])
            .times(1)
            .returning(|users| Ok(users.to_vec()));
        let m = m.build();

        let presence = QueryPresence::new(m.directory, m.presence)
            .execute(ALICE, vec![CAROL, BOB])
            .await
            .expect("answered");

        assert_eq!(
            presence,
            vec![UserPresence {
                user: BOB,
                online: true
            }],
            "Carol shares nothing with Alice"
        );
    }

    #[tokio::test]
    async fn a_caller_in_no_room_sees_only_themselves() {
        let mut m = MocksBuilder::new();
        m.directory.expect_rooms_of().returning(|_| Ok(vec![]));
        m.presence
            .expect_online_among()
            .withf(|users| users == [CAROL])
            .returning(|users| Ok(users.to_vec()));
        let m = m.build();

        let presence = QueryPresence::new(m.directory, m.presence)
            .execute(CAROL, vec![ALICE, CAROL])
            .await
            .expect("answered");

        assert_eq!(
            presence,
            vec![UserPresence {
                user: CAROL,
                online: true
            }]
        );
    }

    #[tokio::test]
    async fn a_directory_outage_is_unavailable_not_everyone_visible() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_rooms_of()
            .returning(|_| Err(DirectoryError::Unavailable(anyhow::anyhow!("down"))));
        m.presence.expect_online_among().never();
        let m = m.build();

        let err = QueryPresence::new(m.directory, m.presence)
            .execute(ALICE, vec![BOB])
            .await;

        assert!(matches!(err, Err(PresenceQueryError::Unavailable(_))));
    }

    #[tokio::test]
    async fn too_many_users_are_refused() {
        let m = MocksBuilder::new().build();
        let users = (1..=201).map(UserId::new).collect();
        let err = QueryPresence::new(m.directory, m.presence)
            .execute(ALICE, users)
            .await;
        assert!(matches!(err, Err(PresenceQueryError::TooManyUsers { .. })));
    }
}

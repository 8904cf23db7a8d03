//! Use case: which of these users are online?

use std::sync::Arc;

use domain::UserId;

use crate::ports::outbound::{Ports, PresenceError, PresenceStore};

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

unavailable_from!(PresenceQueryError: PresenceError);

/// Answers online/offline for a list of users, in the order asked.
pub struct QueryPresence<P: Ports> {
    presence: Arc<P::Presence>,
}

impl<P: Ports> QueryPresence<P> {
    /// Most users in one request.
    pub const MAX_USERS: usize = 200;

    /// Wires the use case to the presence store.
    pub fn new(presence: Arc<P::Presence>) -> Self {
        Self { presence }
    }

    /// Runs the use case.
    pub async fn execute(
        &self,
        users: Vec<UserId>,
    ) -> Result<Vec<UserPresence>, PresenceQueryError> {
        if users.len() > Self::MAX_USERS {
            return Err(PresenceQueryError::TooManyUsers {
                got: users.len(),
                max: Self::MAX_USERS,
            });
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::{ALICE, BOB, Mocks, MocksBuilder};

    #[tokio::test]
    async fn each_user_is_reported_online_or_offline_in_the_order_asked() {
        let mut m = MocksBuilder::new();
        m.presence
            .expect_online_among()
            .returning(|_| Ok(vec![BOB]));
        let m = m.build();

        let presence = QueryPresence::<Mocks>::new(m.presence)
            .execute(vec![ALICE, BOB])
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
    async fn too_many_users_are_refused() {
        let m = MocksBuilder::new().build();
        let users = (1..=201).map(UserId::new).collect();
        let err = QueryPresence::<Mocks>::new(m.presence).execute(users).await;
        assert!(matches!(err, Err(PresenceQueryError::TooManyUsers { .. })));
    }
}

//! Use case: may this user subscribe to that audience?

use std::sync::Arc;

use domain::{Audience, UserId};

use crate::ports::outbound::{CommunityDirectory, DirectoryError, Ports};

/// Every way [`AuthorizeListen::execute`] can refuse.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Not a member.
    #[error("not a member of {0}")]
    Forbidden(Audience),
    /// The directory could not answer.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(ListenError: DirectoryError);

/// Lets members, and only members, hear a room.
pub struct AuthorizeListen<P: Ports> {
    directory: Arc<P::Directory>,
}

impl<P: Ports> AuthorizeListen<P> {
    /// Wires the use case to the directory.
    pub fn new(directory: Arc<P::Directory>) -> Self {
        Self { directory }
    }

    /// Succeeds when `user` may hear `audience`.
    pub async fn execute(&self, user: UserId, audience: Audience) -> Result<(), ListenError> {
        if self.directory.may_listen(user, audience).await? {
            Ok(())
        } else {
            Err(ListenError::Forbidden(audience))
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder};

    #[tokio::test]
    async fn a_member_may_listen() {
        let m = MocksBuilder::new().member_everywhere().build();
        let result = AuthorizeListen::<Mocks>::new(m.directory)
            .execute(ALICE, Audience::Direct(RoomId::new(5)))
            .await;
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn a_non_member_may_not_listen() {
        let m = MocksBuilder::new().member_nowhere().build();
        let result = AuthorizeListen::<Mocks>::new(m.directory)
            .execute(ALICE, Audience::Direct(RoomId::new(5)))
            .await;
        assert!(matches!(result, Err(ListenError::Forbidden(_))));
    }
}

//! Use case: the caller's DM rooms and communities.

use std::sync::Arc;

use domain::{Audience, UserId};

use crate::ports::outbound::{CommunityDirectory, DirectoryError};

/// Every way [`ListRooms::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum ListRoomsError {
    /// The directory could not answer.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(ListRoomsError: DirectoryError);

/// Lists a user's DM rooms and communities.
pub struct ListRooms {
    directory: Arc<dyn CommunityDirectory>,
}

impl ListRooms {
    /// Wires the use case to the directory.
    pub fn new(directory: Arc<dyn CommunityDirectory>) -> Self {
        Self { directory }
    }

    /// Runs the use case.
    pub async fn execute(&self, user: UserId) -> Result<Vec<Audience>, ListRoomsError> {
        Ok(self.directory.rooms_of(user).await?)
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;
    use crate::usecases::test_support::{ALICE, MocksBuilder};

    #[tokio::test]
    async fn the_room_list_comes_from_the_directory() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_rooms_of()
            .returning(|_| Ok(vec![Audience::Direct(RoomId::new(5))]));
        let m = m.build();

        let rooms = ListRooms::new(m.directory).execute(ALICE).await;

        assert_eq!(
            rooms.expect("listed"),
            vec![Audience::Direct(RoomId::new(5))]
        );
    }
}

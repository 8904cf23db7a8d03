//! The membership check every room action starts with.

use domain::{RoomRef, UserId};

use crate::ports::outbound::{CommunityDirectory, DirectoryError};

/// Why an actor may not act in a room.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccessError {
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    #[error(transparent)]
    Unavailable(#[from] DirectoryError),
}

/// Succeeds when `user` may post in `room`.
pub(crate) async fn ensure_may_post<D: CommunityDirectory>(
    directory: &D,
    user: UserId,
    room: RoomRef,
) -> Result<(), AccessError> {
    if directory.may_post(user, room).await? {
        Ok(())
    } else {
        Err(AccessError::Forbidden(room))
    }
}

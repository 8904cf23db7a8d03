//! The membership checks room actions and reads start with, and finding a
//! message within the room a request names.

use domain::{MessageId, RoomKey, RoomRef, Seq, UserId};

use crate::ports::outbound::{CommunityDirectory, DirectoryError, MessageStore, StoreError};

/// Why an actor may not act in (or read) a room; `R` names the room.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccessError<R: std::fmt::Display> {
    #[error("not a member of {0}")]
    Forbidden(R),
    #[error(transparent)]
    Unavailable(#[from] DirectoryError),
}

/// Succeeds when `user` may post in `room`.
pub(crate) async fn ensure_may_post<D: CommunityDirectory>(
    directory: &D,
    user: UserId,
    room: RoomRef,
) -> Result<(), AccessError<RoomRef>> {
    if directory.may_post(user, room).await? {
        Ok(())
    } else {
        Err(AccessError::Forbidden(room))
    }
}

/// Succeeds when `user` may read `room` (hear it live or read its history).
pub(crate) async fn ensure_may_read<D: CommunityDirectory>(
    directory: &D,
    user: UserId,
    room: RoomKey,
) -> Result<(), AccessError<RoomKey>> {
    if directory.may_listen(user, room.audience()).await? {
        Ok(())
    } else {
        Err(AccessError::Forbidden(room))
    }
}

/// The posting sequence number of message `id`, if it is stored in `room`.
pub(crate) async fn seq_in_room<S: MessageStore>(
    store: &S,
    id: &MessageId,
    room: RoomKey,
) -> Result<Option<Seq>, StoreError> {
    Ok(store
        .find(id)
        .await?
        .filter(|m| m.room().key() == room)
        .map(|m| m.seq()))
}

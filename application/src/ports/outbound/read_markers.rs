use domain::{RoomKey, Seq, UserId};

/// How far each user has read each room (the seed's `messageTime` bookkeeping).
///
/// Implemented by `adapters/memory` (`MemoryReadMarkers`); mocked as `MockReadMarkers`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ReadMarkers: Send + Sync + 'static {
    /// Records that `user` has read `room` up to `seq`. Markers never move back:
    /// an older `seq` than the stored one changes nothing.
    ///
    /// # Errors
    /// [`MarkerError::Unavailable`] when the store failed.
    async fn mark_read(&self, user: UserId, room: RoomKey, seq: Seq) -> Result<(), MarkerError>;

    /// How far `user` has read `room`; `None` if never.
    ///
    /// # Errors
    /// [`MarkerError::Unavailable`] when the store failed.
    async fn read_up_to(&self, user: UserId, room: RoomKey) -> Result<Option<Seq>, MarkerError>;

    /// How far `user` has read each of `rooms`, in the order asked (`None`: never), in one
    /// round trip whatever the number of rooms: what unread counts of many rooms start with.
    ///
    /// # Errors
    /// [`MarkerError::Unavailable`] when the store failed.
    async fn read_up_to_many(
        &self,
        user: UserId,
        rooms: &[RoomKey],
    ) -> Result<Vec<Option<Seq>>, MarkerError>;
}

/// Failures of the read-marker store.
#[derive(Debug, thiserror::Error)]
pub enum MarkerError {
    /// The store could not be reached or failed; the cause is attached.
    #[error("read markers unavailable")]
    Unavailable(#[source] anyhow::Error),
}

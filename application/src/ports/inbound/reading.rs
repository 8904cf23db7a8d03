//! [`Reading`]: what a client reads of the chat outside a live session.

use domain::{Audience, Message, MessageId, RoomKey, Seq, UserId};

pub use crate::ports::outbound::HistoryOrder;
use crate::usecases::{
    GetMessageError, HistoryCommand, HistoryError, ListRoomsError, MarkReadError,
    PresenceQueryError, Replay, ReplayCommand, ReplayError, RoomUnread, UnreadError, UserPresence,
};

/// History, one message, the user's rooms, unread counts and how far the user has read,
/// and who is online. File messages come with download links.
///
/// Implemented in `crate::service`; mocked as `MockReading`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Reading: Send + Sync + 'static {
    /// A page of a room's history. See [`HistoryError`].
    async fn history(&self, cmd: HistoryCommand) -> Result<Vec<Message>, HistoryError>;
    /// The events of a room a reader missed since a seq, or a gap. See [`ReplayError`].
    async fn replay(&self, cmd: ReplayCommand) -> Result<Replay, ReplayError>;
    /// One message. See [`GetMessageError`].
    async fn message(&self, reader: UserId, id: MessageId) -> Result<Message, GetMessageError>;
    /// The user's DM rooms and communities. See [`ListRoomsError`].
    async fn rooms(&self, user: UserId) -> Result<Vec<Audience>, ListRoomsError>;
    /// Unread counts, most recently active room first. See [`UnreadError`].
    async fn unread(
        &self,
        reader: UserId,
        rooms: Vec<RoomKey>,
    ) -> Result<Vec<RoomUnread>, UnreadError>;
    /// Mark a room read up to a message or its newest. See [`MarkReadError`].
    async fn mark_read(
        &self,
        reader: UserId,
        room: RoomKey,
        up_to: Option<MessageId>,
    ) -> Result<Option<Seq>, MarkReadError>;
    /// Online/offline of the users among `users` who share a DM room or community with
    /// `caller` (the others are left out). See [`PresenceQueryError`].
    async fn presence(
        &self,
        caller: UserId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserPresence>, PresenceQueryError>;
}

//! [`Messaging`]: what a user writes to a room.

use domain::Message;

use super::SendTurn;

use crate::usecases::{
    DeleteCommand, DeleteMessageError, EditCommand, EditMessageError, PostCommand, PostError,
    ReplyCommand, ReplyToMessageError, TypingCommand, TypingError,
};

/// Posting, replying, editing and deleting messages, and telling a room the user is typing.
///
/// A change to a room's messages takes a [`SendTurn`]: its store step waits for the turns
/// before it, so one connection's changes take effect in the order sent while the rest of
/// them (checks, publishing) overlaps. A caller that needs no order passes
/// [`SendTurn::free`].
///
/// Implemented in `crate::service`; mocked as `MockMessaging`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Messaging: Send + Sync + 'static {
    /// Post a message. See [`PostError`].
    async fn post(&self, cmd: PostCommand, turn: SendTurn) -> Result<Message, PostError>;
    /// Reply to a message. See [`ReplyToMessageError`].
    async fn reply(
        &self,
        cmd: ReplyCommand,
        turn: SendTurn,
    ) -> Result<Message, ReplyToMessageError>;
    /// Edit a message. See [`EditMessageError`].
    async fn edit(&self, cmd: EditCommand, turn: SendTurn) -> Result<Message, EditMessageError>;
    /// Delete a message. See [`DeleteMessageError`].
    async fn delete(
        &self,
        cmd: DeleteCommand,
        turn: SendTurn,
    ) -> Result<Message, DeleteMessageError>;
    /// Tell a room the user is typing. See [`TypingError`].
    async fn typing(&self, cmd: TypingCommand) -> Result<(), TypingError>;
}

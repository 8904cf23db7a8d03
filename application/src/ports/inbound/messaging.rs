//! [`Messaging`]: what a user writes to a room.

use domain::Message;

use crate::usecases::{
    DeleteCommand, DeleteMessageError, EditCommand, EditMessageError, PostCommand, PostError,
    ReplyCommand, ReplyToMessageError, TypingCommand, TypingError,
};

/// Posting, replying, editing and deleting messages, and telling a room the user is typing.
///
/// Implemented in `crate::service`; mocked as `MockMessaging`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Messaging: Send + Sync + 'static {
    /// Post a message. See [`PostError`].
    async fn post(&self, cmd: PostCommand) -> Result<Message, PostError>;
    /// Reply to a message. See [`ReplyToMessageError`].
    async fn reply(&self, cmd: ReplyCommand) -> Result<Message, ReplyToMessageError>;
    /// Edit a message. See [`EditMessageError`].
    async fn edit(&self, cmd: EditCommand) -> Result<Message, EditMessageError>;
    /// Delete a message. See [`DeleteMessageError`].
    async fn delete(&self, cmd: DeleteCommand) -> Result<Message, DeleteMessageError>;
    /// Tell a room the user is typing. See [`TypingError`].
    async fn typing(&self, cmd: TypingCommand) -> Result<(), TypingError>;
}

//! The driving port: everything an inbound adapter (STOMP, REST) may ask of the chat.

use domain::{Audience, Message, SessionId, UserId};

use crate::usecases::{
    ConnectCommand, ConnectError, Connected, DeleteCommand, DeleteMessageError, DisconnectError,
    EditCommand, EditMessageError, ListenError, PostCommand, PostError, ReplyCommand,
    ReplyToMessageError, TypingCommand, TypingError,
};

/// The chat as inbound adapters see it. Implemented by [`crate::Chat`], which
/// delegates each call to its use case; mocked as `MockChatService`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[trait_variant::make(Send)]
pub trait ChatService: Send + Sync + 'static {
    /// Open a session from an access token. See [`ConnectError`].
    async fn connect(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError>;
    /// Close a session; `Ok(false)` when it was unknown or already closed.
    async fn disconnect(&self, session: SessionId) -> Result<bool, DisconnectError>;
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
    /// Whether `user` may subscribe to `audience`. See [`ListenError`].
    async fn authorize_listen(&self, user: UserId, audience: Audience) -> Result<(), ListenError>;
}

impl<T: ChatService> ChatService for std::sync::Arc<T> {
    async fn connect(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError> {
        (**self).connect(cmd).await
    }
    async fn disconnect(&self, session: SessionId) -> Result<bool, DisconnectError> {
        (**self).disconnect(session).await
    }
    async fn post(&self, cmd: PostCommand) -> Result<Message, PostError> {
        (**self).post(cmd).await
    }
    async fn reply(&self, cmd: ReplyCommand) -> Result<Message, ReplyToMessageError> {
        (**self).reply(cmd).await
    }
    async fn edit(&self, cmd: EditCommand) -> Result<Message, EditMessageError> {
        (**self).edit(cmd).await
    }
    async fn delete(&self, cmd: DeleteCommand) -> Result<Message, DeleteMessageError> {
        (**self).delete(cmd).await
    }
    async fn typing(&self, cmd: TypingCommand) -> Result<(), TypingError> {
        (**self).typing(cmd).await
    }
    async fn authorize_listen(&self, user: UserId, audience: Audience) -> Result<(), ListenError> {
        (**self).authorize_listen(user, audience).await
    }
}

//! The [`Messaging`] port over its use cases.

use domain::Message;

use super::Adapters;
use crate::ports::inbound::{Messaging, SendTurn};
use crate::usecases::{
    DeleteCommand, DeleteMessage, DeleteMessageError, EditCommand, EditMessage, EditMessageError,
    PostCommand, PostError, PostMessage, ReplyCommand, ReplyToMessage, ReplyToMessageError,
    SendTyping, TypingCommand, TypingError,
};

/// The use cases behind [`Messaging`].
pub(super) struct MessagingUseCases {
    post: PostMessage,
    reply: ReplyToMessage,
    edit: EditMessage,
    delete: DeleteMessage,
    typing: SendTyping,
}

impl MessagingUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            post: PostMessage::new(
                a.directory.clone(),
                a.channel_binding,
                a.users.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
            ),
            reply: ReplyToMessage::new(
                a.directory.clone(),
                a.users.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
            ),
            edit: EditMessage::new(
                a.directory.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
            ),
            delete: DeleteMessage::new(
                a.directory.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
            ),
            typing: SendTyping::new(a.directory.clone(), a.users.clone(), a.bus.clone()),
        }
    }
}

#[async_trait::async_trait]
impl Messaging for MessagingUseCases {
    async fn post(&self, cmd: PostCommand, turn: SendTurn) -> Result<Message, PostError> {
        self.post.execute_in_turn(cmd, turn).await
    }
    async fn reply(
        &self,
        cmd: ReplyCommand,
        turn: SendTurn,
    ) -> Result<Message, ReplyToMessageError> {
        self.reply.execute_in_turn(cmd, turn).await
    }
    async fn edit(&self, cmd: EditCommand, turn: SendTurn) -> Result<Message, EditMessageError> {
        self.edit.execute_in_turn(cmd, turn).await
    }
    async fn delete(
        &self,
        cmd: DeleteCommand,
        turn: SendTurn,
    ) -> Result<Message, DeleteMessageError> {
        self.delete.execute_in_turn(cmd, turn).await
    }
    async fn typing(&self, cmd: TypingCommand) -> Result<(), TypingError> {
        self.typing.execute(cmd).await
    }
}

//! [`Chat`]: the driving port implemented by delegating to the use cases.

use std::sync::Arc;

use domain::{Audience, Message, SessionId, UserId};

use crate::ports::inbound::ChatService;
use crate::ports::outbound::Ports;
use crate::usecases::{
    AuthorizeListen, ConnectCommand, ConnectError, ConnectSession, Connected, DeleteCommand,
    DeleteMessage, DeleteMessageError, DisconnectError, DisconnectSession, EditCommand,
    EditMessage, EditMessageError, ListenError, PostCommand, PostError, PostMessage, ReplyCommand,
    ReplyToMessage, ReplyToMessageError, SendTyping, TypingCommand, TypingError,
};

/// The driven ports, one shared instance each, as `bootstrap` builds them.
pub struct Adapters<P: Ports> {
    /// Durable messages.
    pub store: Arc<P::Store>,
    /// Fan-out to every instance.
    pub bus: Arc<P::Bus>,
    /// Sessions and who is online.
    pub presence: Arc<P::Presence>,
    /// The external state server.
    pub state: Arc<P::State>,
    /// Who belongs where.
    pub directory: Arc<P::Directory>,
    /// Display profiles.
    pub users: Arc<P::Users>,
    /// Access tokens.
    pub tokens: Arc<P::Tokens>,
    /// Wall clock.
    pub clock: Arc<P::Clock>,
    /// Fresh ids.
    pub ids: Arc<P::Ids>,
}

/// Every use case, wired once; what inbound adapters hold.
pub struct Chat<P: Ports> {
    connect: ConnectSession<P>,
    disconnect: DisconnectSession<P>,
    post: PostMessage<P>,
    reply: ReplyToMessage<P>,
    edit: EditMessage<P>,
    delete: DeleteMessage<P>,
    typing: SendTyping<P>,
    listen: AuthorizeListen<P>,
}

impl<P: Ports> Chat<P> {
    /// Builds every use case over the same adapters.
    pub fn new(a: &Adapters<P>) -> Self {
        Self {
            connect: ConnectSession::new(
                a.tokens.clone(),
                a.users.clone(),
                a.presence.clone(),
                a.state.clone(),
                a.directory.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
            ),
            disconnect: DisconnectSession::new(
                a.presence.clone(),
                a.state.clone(),
                a.directory.clone(),
                a.bus.clone(),
            ),
            post: PostMessage::new(
                a.directory.clone(),
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
            listen: AuthorizeListen::new(a.directory.clone()),
        }
    }
}

impl<P: Ports> ChatService for Chat<P> {
    async fn connect(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError> {
        self.connect.execute(cmd).await
    }
    async fn disconnect(&self, session: SessionId) -> Result<bool, DisconnectError> {
        self.disconnect.execute(session).await
    }
    async fn post(&self, cmd: PostCommand) -> Result<Message, PostError> {
        self.post.execute(cmd).await
    }
    async fn reply(&self, cmd: ReplyCommand) -> Result<Message, ReplyToMessageError> {
        self.reply.execute(cmd).await
    }
    async fn edit(&self, cmd: EditCommand) -> Result<Message, EditMessageError> {
        self.edit.execute(cmd).await
    }
    async fn delete(&self, cmd: DeleteCommand) -> Result<Message, DeleteMessageError> {
        self.delete.execute(cmd).await
    }
    async fn typing(&self, cmd: TypingCommand) -> Result<(), TypingError> {
        self.typing.execute(cmd).await
    }
    async fn authorize_listen(&self, user: UserId, audience: Audience) -> Result<(), ListenError> {
        self.listen.execute(user, audience).await
    }
}

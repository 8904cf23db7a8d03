//! [`Chat`]: the driving port implemented by delegating to the use cases.

use std::sync::Arc;

use domain::{
    Audience, ChannelId, CommunityId, Location, LocationChange, Message, MessageId, RoomKey,
    RoomRef, Seq, SessionId, UserId, VoiceLeave, VoiceOccupancy,
};

use crate::ports::inbound::ChatService;
use crate::ports::outbound::{
    Clock, CommunityDirectory, EventBus, FileStore, IdGenerator, MessageStore, PresenceStore,
    RateLimiter, ReadMarkers, RequestKind, RoomBroadcaster, SessionStateGateway, TokenError,
    TokenVerifier, UserDirectory, VerifiedToken,
};
use crate::usecases::{
    AdmitRequest, AnnounceVoiceLeave, Authenticate, AuthorizeListen, ChangeLocation,
    ChangeLocationError, ChannelBinding, ConnectCommand, ConnectError, ConnectSession, Connected,
    CountUnread, DeleteCommand, DeleteMessage, DeleteMessageError, DisconnectError,
    DisconnectSession, EditCommand, EditMessage, EditMessageError, EnterVoice, EnterVoiceError,
    FileCommand, FileLimits, FileLinks, GetMessage, GetMessageError, HistoryCommand, HistoryError,
    ListRooms, ListRoomsError, ListenError, MarkRead, MarkReadError, PostCommand, PostError,
    PostFile, PostFileError, PostMessage, PresenceQueryError, QueryPresence, RateLimited,
    ReadHistory, ReplyCommand, ReplyToMessage, ReplyToMessageError, RoomUnread, SendTyping,
    SetChannel, SetChannelError, SetMembers, SetMembersError, TypingCommand, TypingError,
    UnreadError, UserPresence, VoiceLeaveCommandError,
};

/// The driven ports, one shared instance each, as `bootstrap` builds them.
pub struct Adapters {
    /// Durable messages.
    pub store: Arc<dyn MessageStore>,
    /// How far users have read.
    pub markers: Arc<dyn ReadMarkers>,
    /// Fan-out to every instance.
    pub bus: Arc<dyn EventBus>,
    /// Sessions and who is online.
    pub presence: Arc<dyn PresenceStore>,
    /// The external state server.
    pub state: Arc<dyn SessionStateGateway>,
    /// Who belongs where.
    pub directory: Arc<dyn CommunityDirectory>,
    /// Display profiles.
    pub users: Arc<dyn UserDirectory>,
    /// Access tokens.
    pub tokens: Arc<dyn TokenVerifier>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Fresh ids.
    pub ids: Arc<dyn IdGenerator>,
    /// Per-user request allowances.
    pub limiter: Arc<dyn RateLimiter>,
    /// Shared files.
    pub files: Arc<dyn FileStore>,
    /// This instance's subscribers.
    pub broadcaster: Arc<dyn RoomBroadcaster>,
    /// What uploads may be.
    pub file_limits: FileLimits,
    /// How a channel no authoritative source knows is treated.
    pub channel_binding: ChannelBinding,
}

/// Every use case, wired once; what inbound adapters hold.
pub struct Chat {
    connect: ConnectSession,
    disconnect: DisconnectSession,
    post: PostMessage,
    post_file: PostFile,
    reply: ReplyToMessage,
    edit: EditMessage,
    delete: DeleteMessage,
    typing: SendTyping,
    listen: AuthorizeListen,
    admit: AdmitRequest,
    authenticate: Authenticate,
    history: ReadHistory,
    message: GetMessage,
    rooms: ListRooms,
    unread: CountUnread,
    mark_read: MarkRead,
    presence: QueryPresence,
    set_members: SetMembers,
    set_channel: SetChannel,
    voice_leave: AnnounceVoiceLeave,
    change_location: ChangeLocation,
    enter_voice: EnterVoice,
    links: FileLinks,
}

impl Chat {
    /// Builds every use case over the same adapters.
    pub fn new(a: &Adapters) -> Self {
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
                a.store.clone(),
                a.markers.clone(),
            ),
            post: PostMessage::new(
                a.directory.clone(),
                a.channel_binding,
                a.users.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
            ),
            post_file: PostFile::new(
                a.directory.clone(),
                a.channel_binding,
                a.users.clone(),
                a.files.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
                a.file_limits.clone(),
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
            admit: AdmitRequest::new(a.limiter.clone()),
            authenticate: Authenticate::new(a.tokens.clone()),
            history: ReadHistory::new(a.directory.clone(), a.store.clone()),
            message: GetMessage::new(a.directory.clone(), a.store.clone()),
            rooms: ListRooms::new(a.directory.clone()),
            unread: CountUnread::new(a.directory.clone(), a.store.clone(), a.markers.clone()),
            mark_read: MarkRead::new(a.directory.clone(), a.store.clone(), a.markers.clone()),
            presence: QueryPresence::new(a.directory.clone(), a.presence.clone()),
            set_members: SetMembers::new(a.directory.clone(), a.broadcaster.clone()),
            set_channel: SetChannel::new(a.directory.clone()),
            voice_leave: AnnounceVoiceLeave::new(a.bus.clone()),
            change_location: ChangeLocation::new(
                a.directory.clone(),
                a.channel_binding,
                a.state.clone(),
                a.store.clone(),
                a.markers.clone(),
            ),
            enter_voice: EnterVoice::new(a.directory.clone(), a.state.clone(), a.bus.clone()),
            links: FileLinks::new(a.files.clone()),
        }
    }
}

impl ChatService for Chat {
    async fn connect(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError> {
        self.connect.execute(cmd).await
    }
    async fn disconnect(&self, session: SessionId) -> Result<bool, DisconnectError> {
        self.disconnect.execute(session).await
    }
    async fn post(&self, cmd: PostCommand) -> Result<Message, PostError> {
        self.post.execute(cmd).await
    }
    async fn post_file(&self, cmd: FileCommand) -> Result<Message, PostFileError> {
        self.post_file.execute(cmd).await
    }
    async fn authorize_file(&self, author: UserId, room: RoomRef) -> Result<(), PostFileError> {
        self.post_file.authorize(author, room).await
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
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<(), RateLimited> {
        self.admit.execute(user, kind).await
    }
    fn authenticate(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.authenticate.execute(token)
    }
    async fn history(&self, cmd: HistoryCommand) -> Result<Vec<Message>, HistoryError> {
        let page = self.history.execute(cmd).await?;
        Ok(self.links.all(page).await)
    }
    async fn message(&self, reader: UserId, id: MessageId) -> Result<Message, GetMessageError> {
        let message = self.message.execute(reader, id).await?;
        Ok(self.links.execute(message).await)
    }
    async fn rooms(&self, user: UserId) -> Result<Vec<Audience>, ListRoomsError> {
        self.rooms.execute(user).await
    }
    async fn unread(
        &self,
        reader: UserId,
        rooms: Vec<RoomKey>,
    ) -> Result<Vec<RoomUnread>, UnreadError> {
        self.unread.execute(reader, rooms).await
    }
    async fn mark_read(
        &self,
        reader: UserId,
        room: RoomKey,
        up_to: Option<MessageId>,
    ) -> Result<Option<Seq>, MarkReadError> {
        self.mark_read.execute(reader, room, up_to).await
    }
    async fn presence(
        &self,
        caller: UserId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserPresence>, PresenceQueryError> {
        self.presence.execute(caller, users).await
    }
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), SetMembersError> {
        self.set_members.execute(group, members).await
    }
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), SetChannelError> {
        self.set_channel.execute(channel, community).await
    }
    async fn voice_leave(&self, leave: VoiceLeave) -> Result<(), VoiceLeaveCommandError> {
        self.voice_leave.execute(leave).await
    }
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, ChangeLocationError> {
        self.change_location.execute(user, to).await
    }
    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    ) -> Result<VoiceOccupancy, EnterVoiceError> {
        self.enter_voice.execute(user, community, channel).await
    }
}

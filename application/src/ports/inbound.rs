//! The driving port: everything an inbound adapter (STOMP, REST) may ask of the chat.

use domain::{
    Audience, ChannelId, CommunityId, Location, LocationChange, Message, MessageId, RoomKey,
    RoomRef, Seq, SessionId, UserId, VoiceLeave, VoiceOccupancy,
};

use crate::ports::outbound::{RequestKind, TokenError, VerifiedToken};
use crate::usecases::{
    ChangeLocationError, ConnectCommand, ConnectError, Connected, DeleteCommand,
    DeleteMessageError, DisconnectError, EditCommand, EditMessageError, EnterVoiceError,
    FileCommand, GetMessageError, HistoryCommand, HistoryError, ListRoomsError, ListenError,
    MarkReadError, PostCommand, PostError, PostFileError, PresenceQueryError, RateLimited,
    ReplyCommand, ReplyToMessageError, RoomUnread, SetChannelError, SetMembersError, TypingCommand,
    TypingError, UnreadError, UserPresence, VoiceLeaveCommandError,
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
    /// Share a file. See [`PostFileError`].
    async fn post_file(&self, cmd: FileCommand) -> Result<Message, PostFileError>;
    /// Whether `author` may share a file in `room`, asked before the upload is read.
    /// See [`PostFileError`].
    async fn authorize_file(&self, author: UserId, room: RoomRef) -> Result<(), PostFileError>;
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
    /// Spend one request of `kind` from `user`'s allowance. See [`RateLimited`].
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<(), RateLimited>;
    /// Verify an access token (REST requests). See [`TokenError`].
    fn authenticate(&self, token: &str) -> Result<VerifiedToken, TokenError>;
    /// A page of a room's history. See [`HistoryError`].
    async fn history(&self, cmd: HistoryCommand) -> Result<Vec<Message>, HistoryError>;
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
    /// Replace a DM room's or community's member list. See [`SetMembersError`].
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), SetMembersError>;
    /// Place a channel in a community (the community service registers it). See [`SetChannelError`].
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), SetChannelError>;
    /// Announce users leaving a voice channel. See [`VoiceLeaveCommandError`].
    async fn voice_leave(&self, leave: VoiceLeave) -> Result<(), VoiceLeaveCommandError>;
    /// The user opened a room, a channel or home. See [`ChangeLocationError`].
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, ChangeLocationError>;
    /// The user opened a community page (no channel) or joined a voice channel. See [`EnterVoiceError`].
    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    ) -> Result<VoiceOccupancy, EnterVoiceError>;
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
    async fn post_file(&self, cmd: FileCommand) -> Result<Message, PostFileError> {
        (**self).post_file(cmd).await
    }
    async fn authorize_file(&self, author: UserId, room: RoomRef) -> Result<(), PostFileError> {
        (**self).authorize_file(author, room).await
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
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<(), RateLimited> {
        (**self).admit(user, kind).await
    }
    fn authenticate(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        (**self).authenticate(token)
    }
    async fn history(&self, cmd: HistoryCommand) -> Result<Vec<Message>, HistoryError> {
        (**self).history(cmd).await
    }
    async fn message(&self, reader: UserId, id: MessageId) -> Result<Message, GetMessageError> {
        (**self).message(reader, id).await
    }
    async fn rooms(&self, user: UserId) -> Result<Vec<Audience>, ListRoomsError> {
        (**self).rooms(user).await
    }
    async fn unread(
        &self,
        reader: UserId,
        rooms: Vec<RoomKey>,
    ) -> Result<Vec<RoomUnread>, UnreadError> {
        (**self).unread(reader, rooms).await
    }
    async fn mark_read(
        &self,
        reader: UserId,
        room: RoomKey,
        up_to: Option<MessageId>,
    ) -> Result<Option<Seq>, MarkReadError> {
        (**self).mark_read(reader, room, up_to).await
    }
    async fn presence(
        &self,
        caller: UserId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserPresence>, PresenceQueryError> {
        (**self).presence(caller, users).await
    }
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), SetMembersError> {
        (**self).set_members(group, members).await
    }
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), SetChannelError> {
        (**self).set_channel(channel, community).await
    }
    async fn voice_leave(&self, leave: VoiceLeave) -> Result<(), VoiceLeaveCommandError> {
        (**self).voice_leave(leave).await
    }
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, ChangeLocationError> {
        (**self).change_location(user, to).await
    }
    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    ) -> Result<VoiceOccupancy, EnterVoiceError> {
        (**self).enter_voice(user, community, channel).await
    }
}

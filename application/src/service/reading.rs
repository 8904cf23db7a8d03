//! The [`Reading`] port over its use cases.

use domain::{Audience, ChatEvent, Message, MessageId, RoomKey, Seq, UserId};

use super::Adapters;
use crate::ports::inbound::Reading;
use crate::usecases::{
    CountUnread, FileLinks, GetMessage, GetMessageError, HistoryCommand, HistoryError, ListRooms,
    ListRoomsError, MarkRead, MarkReadError, PresenceQueryError, QueryPresence, ReadHistory,
    Replay, ReplayCommand, ReplayError, ReplayRoom, RoomUnread, UnreadError, UserPresence,
};

/// The use cases behind [`Reading`].
pub(super) struct ReadingUseCases {
    history: ReadHistory,
    replay: ReplayRoom,
    message: GetMessage,
    rooms: ListRooms,
    unread: CountUnread,
    mark_read: MarkRead,
    presence: QueryPresence,
    links: FileLinks,
}

impl ReadingUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            history: ReadHistory::new(a.directory.clone(), a.store.clone()),
            replay: ReplayRoom::new(a.directory.clone(), a.store.clone()),
            message: GetMessage::new(a.directory.clone(), a.store.clone()),
            rooms: ListRooms::new(a.directory.clone()),
            unread: CountUnread::new(a.directory.clone(), a.store.clone(), a.markers.clone()),
            mark_read: MarkRead::new(a.directory.clone(), a.store.clone(), a.markers.clone()),
            presence: QueryPresence::new(a.directory.clone(), a.presence.clone()),
            links: FileLinks::new(a.files.clone()),
        }
    }
}

#[async_trait::async_trait]
impl Reading for ReadingUseCases {
    async fn history(&self, cmd: HistoryCommand) -> Result<Vec<Message>, HistoryError> {
        let page = self.history.execute(cmd).await?;
        Ok(self.links.all(page).await)
    }
    async fn replay(&self, cmd: ReplayCommand) -> Result<Replay, ReplayError> {
        let replay = self.replay.execute(cmd).await?;
        let Replay::Events { events, through } = replay else {
            return Ok(replay);
        };
        let mut linked = Vec::with_capacity(events.len());
        for event in events {
            linked.push(match event {
                ChatEvent::Posted(message) => ChatEvent::Posted(self.links.execute(message).await),
                other => other,
            });
        }
        Ok(Replay::Events {
            events: linked,
            through,
        })
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
}

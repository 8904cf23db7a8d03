//! Messages in memory, with per-room sequence numbers, within bounds: the newest
//! `max_messages_per_room` of each room, none older than `max_age`, at most `max_rooms`
//! rooms and `max_bytes` of messages in all ([`MemoryStoreLimits`]). Older messages are
//! dropped; what a resume can no longer be sent becomes a gap, never a silent omission.

mod footprint;
mod held;
mod limits;
mod report;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use application::ports::outbound::{
    Appended, Clock, HistoryQuery, MessageStore, RoomActivity, RoomChanges, StoreError,
};
use domain::{ClientMsgId, Message, MessageId, NewMessage, RoomKey, Seq, UserId};

pub use limits::MemoryStoreLimits;

use self::held::Contents;
use self::report::report;
use crate::{SystemClock, lock};

/// The embedded message store. One lock covers every map, so a message and its
/// sequence number are assigned together, a room's numbers never repeat, and a client key
/// is checked and taken in the same step.
///
/// What it drops is gone: history pages hold what remains, a resume from before a dropped
/// message's events (or in a forgotten room) gets a gap, a client key is forgotten with its
/// message (a repeat of it is stored anew), and unread counts count what remains.
pub struct MemoryMessageStore {
    rooms: Mutex<Contents>,
    clock: Arc<dyn Clock>,
}

impl MemoryMessageStore {
    /// An empty store within `limits`, dating messages' ages by `clock`.
    pub fn new(limits: MemoryStoreLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            rooms: Mutex::new(Contents::new(limits)),
            clock,
        }
    }

    /// The store, locked, without the messages that have aged past `max_age`.
    fn current(&self) -> MutexGuard<'_, Contents> {
        let mut rooms = lock(&self.rooms);
        if rooms.limits().max_age.is_some() && rooms.drop_aged(self.clock.now()) {
            report(&mut rooms);
        }
        rooms
    }
}

impl Default for MemoryMessageStore {
    /// A store within [`MemoryStoreLimits::DEFAULT`], on the system clock.
    fn default() -> Self {
        Self::new(MemoryStoreLimits::DEFAULT, Arc::new(SystemClock))
    }
}

impl std::fmt::Debug for MemoryMessageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rooms = lock(&self.rooms);
        f.debug_struct("MemoryMessageStore")
            .field("limits", &rooms.limits())
            .field("messages", &rooms.messages())
            .field("rooms", &rooms.rooms())
            .field("bytes", &rooms.bytes())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl MessageStore for MemoryMessageStore {
    async fn append(&self, message: NewMessage) -> Result<Appended, StoreError> {
        let mut rooms = self.current();
        if let Some(key) = &message.client_msg_id
            && let Some(original) = rooms.by_client_key(message.room.key(), message.author.id, key)
        {
            return Ok(Appended::Existing(original.clone()));
        }
        let stored = rooms.append(message);
        report(&mut rooms);
        Ok(Appended::New(stored))
    }

    async fn find_by_client_msg_id(
        &self,
        room: RoomKey,
        author: UserId,
        key: &ClientMsgId,
    ) -> Result<Option<Message>, StoreError> {
        Ok(self.current().by_client_key(room, author, key).cloned())
    }

    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        Ok(self.current().find(id).cloned())
    }

    async fn find_many(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
        let rooms = self.current();
        Ok(ids
            .iter()
            .filter_map(|id| rooms.find(id).cloned())
            .collect())
    }

    async fn update(&self, message: &Message) -> Result<Seq, StoreError> {
        let mut rooms = self.current();
        let seq = rooms.update(message).ok_or_else(|| {
            StoreError::Unavailable(anyhow::anyhow!(
                "message {} is not stored (never, or no longer)",
                message.id()
            ))
        })?;
        report(&mut rooms);
        Ok(seq)
    }

    async fn history(
        &self,
        room: RoomKey,
        query: HistoryQuery,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(self.current().history(room, query))
    }

    async fn events_since(
        &self,
        room: RoomKey,
        after: Seq,
        limit: usize,
    ) -> Result<RoomChanges, StoreError> {
        Ok(self.current().events_since(room, after, limit))
    }

    async fn activity(
        &self,
        room: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> Result<RoomActivity, StoreError> {
        Ok(self.current().activity(room, reader, read_up_to))
    }

    async fn activities(
        &self,
        reader: UserId,
        rooms: &[(RoomKey, Option<Seq>)],
    ) -> Result<Vec<RoomActivity>, StoreError> {
        let stored = self.current();
        Ok(rooms
            .iter()
            .map(|(room, read_up_to)| stored.activity(*room, reader, *read_up_to))
            .collect())
    }
}

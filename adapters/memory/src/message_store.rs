//! Messages in a map, with per-room sequence numbers.

use std::collections::HashMap;
use std::sync::Mutex;

use application::ports::outbound::{MessageStore, StoreError};
use domain::{Message, MessageId, NewMessage, RoomRef, Seq};

use crate::lock;

#[derive(Debug, Default)]
struct Rooms {
    messages: HashMap<MessageId, Message>,
    last_seq: HashMap<RoomRef, Seq>,
}

impl Rooms {
    fn next_seq(&mut self, room: RoomRef) -> Seq {
        let next = self.last_seq.get(&room).map_or(Seq::FIRST, |s| s.next());
        self.last_seq.insert(room, next);
        next
    }
}

/// The embedded message store. One lock covers both maps, so a message and its
/// sequence number are assigned together and a room's numbers never repeat.
#[derive(Debug, Default)]
pub struct MemoryMessageStore {
    rooms: Mutex<Rooms>,
}

impl MessageStore for MemoryMessageStore {
    async fn append(&self, message: NewMessage) -> Result<Message, StoreError> {
        let mut rooms = lock(&self.rooms);
        let seq = rooms.next_seq(message.room);
        let stored = message.stored_at(seq);
        rooms.messages.insert(stored.id().clone(), stored.clone());
        Ok(stored)
    }

    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        Ok(lock(&self.rooms).messages.get(id).cloned())
    }

    async fn update(&self, message: &Message) -> Result<Seq, StoreError> {
        let mut rooms = lock(&self.rooms);
        if !rooms.messages.contains_key(message.id()) {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "message {} is not stored",
                message.id()
            )));
        }
        let seq = rooms.next_seq(message.room());
        rooms.messages.insert(message.id().clone(), message.clone());
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, CommunityId, MessageBody, RoomId, Timestamp, UserId, UserProfile};

    use super::*;

    fn new_message(id: &str, room: RoomRef) -> NewMessage {
        NewMessage {
            id: MessageId::parse(id).expect("id"),
            room,
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse("hi").expect("body"),
            parent: None,
            sent_at: Timestamp::from_unix_micros(0),
        }
    }

    #[tokio::test]
    async fn each_room_numbers_its_events_from_one_without_gaps() {
        let store = MemoryMessageStore::default();
        let dm = RoomRef::Direct(RoomId::new(5));
        let channel = RoomRef::Channel {
            community: CommunityId::new(3),
            channel: ChannelId::new(12),
        };

        let first = store.append(new_message("a", dm)).await.expect("stored");
        let other_room = store
            .append(new_message("b", channel))
            .await
            .expect("stored");
        let second = store.append(new_message("c", dm)).await.expect("stored");
        let edit = store
            .update(
                &first
                    .edited(
                        UserId::new(1),
                        MessageBody::parse("x").expect("b"),
                        Timestamp::from_unix_micros(1),
                    )
                    .expect("edit"),
            )
            .await
            .expect("updated");

        assert_eq!(first.seq(), Seq::new(1));
        assert_eq!(other_room.seq(), Seq::new(1));
        assert_eq!(second.seq(), Seq::new(2));
        assert_eq!(edit, Seq::new(3));
    }

    #[tokio::test]
    async fn a_stored_message_is_found_by_id_with_its_latest_state() {
        let store = MemoryMessageStore::default();
        let dm = RoomRef::Direct(RoomId::new(5));
        let stored = store.append(new_message("a", dm)).await.expect("stored");
        let tombstone = stored
            .deleted(UserId::new(1), Timestamp::from_unix_micros(5))
            .expect("deleted");
        store.update(&tombstone).await.expect("updated");

        let found = store.find(stored.id()).await.expect("read");

        assert_eq!(found, Some(tombstone));
    }
}

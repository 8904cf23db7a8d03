//! Messages in a map, with per-room sequence numbers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use application::ports::outbound::{
    Appended, ChangedMessage, HistoryOrder, HistoryQuery, MessageStore, RoomActivity, RoomChanges,
    StoreError,
};
use domain::{ClientMsgId, Message, MessageId, NewMessage, RoomKey, Seq, UserId};

use crate::lock;

#[derive(Debug, Default)]
struct Rooms {
    messages: HashMap<MessageId, Message>,
    /// Each room's messages by posting sequence number: the history index.
    by_seq: HashMap<RoomKey, BTreeMap<Seq, MessageId>>,
    last_seq: HashMap<RoomKey, Seq>,
    /// The message each author stored under each client key, per room, kept as long as
    /// the message.
    by_client_key: HashMap<(RoomKey, UserId, ClientMsgId), MessageId>,
    /// The seq of each message's last edit or delete, as Mongo's `changeSeq`.
    last_change: HashMap<MessageId, Seq>,
}

impl Rooms {
    fn by_client_key(&self, room: RoomKey, author: UserId, key: &ClientMsgId) -> Option<&Message> {
        // The tuple key owns its parts, so the lookup clones the (short) key.
        let id = self.by_client_key.get(&(room, author, key.clone()))?;
        self.messages.get(id)
    }

    fn next_seq(&mut self, room: RoomKey) -> Seq {
        let next = self.last_seq.get(&room).map_or(Seq::FIRST, |s| s.next());
        self.last_seq.insert(room, next);
        next
    }

    fn in_room(&self, room: RoomKey) -> impl DoubleEndedIterator<Item = &Message> {
        self.by_seq
            .get(&room)
            .into_iter()
            .flat_map(|index| index.values())
            .filter_map(|id| self.messages.get(id))
    }

    fn activity(&self, room: RoomKey, reader: UserId, read_up_to: Option<Seq>) -> RoomActivity {
        let newest = self.in_room(room).next_back();
        let unread = self
            .in_room(room)
            .rev()
            .take_while(|m| read_up_to.is_none_or(|marker| m.seq() > marker))
            .filter(|m| !m.is_deleted() && m.author().id != reader)
            .count();
        RoomActivity {
            unread: u64::try_from(unread).unwrap_or(u64::MAX),
            last_message_at: newest.map(Message::sent_at),
            last_seq: newest.map(Message::seq),
        }
    }
}

/// The embedded message store. One lock covers every map, so a message and its
/// sequence number are assigned together, a room's numbers never repeat, and a client key
/// is checked and taken in the same step.
#[derive(Debug, Default)]
pub struct MemoryMessageStore {
    rooms: Mutex<Rooms>,
}

#[async_trait::async_trait]
impl MessageStore for MemoryMessageStore {
    async fn append(&self, message: NewMessage) -> Result<Appended, StoreError> {
        let mut rooms = lock(&self.rooms);
        let room = message.room.key();
        let author = message.author.id;
        if let Some(key) = &message.client_msg_id
            && let Some(original) = rooms.by_client_key(room, author, key)
        {
            return Ok(Appended::Existing(original.clone()));
        }
        let seq = rooms.next_seq(room);
        let stored = message.stored_at(seq);
        rooms
            .by_seq
            .entry(room)
            .or_default()
            .insert(seq, stored.id().clone());
        if let Some(key) = stored.client_msg_id() {
            rooms
                .by_client_key
                .insert((room, author, key.clone()), stored.id().clone());
        }
        rooms.messages.insert(stored.id().clone(), stored.clone());
        Ok(Appended::New(stored))
    }

    async fn find_by_client_msg_id(
        &self,
        room: RoomKey,
        author: UserId,
        key: &ClientMsgId,
    ) -> Result<Option<Message>, StoreError> {
        Ok(lock(&self.rooms).by_client_key(room, author, key).cloned())
    }

    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        Ok(lock(&self.rooms).messages.get(id).cloned())
    }

    async fn find_many(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
        let rooms = lock(&self.rooms);
        Ok(ids
            .iter()
            .filter_map(|id| rooms.messages.get(id).cloned())
            .collect())
    }

    async fn update(&self, message: &Message) -> Result<Seq, StoreError> {
        let mut rooms = lock(&self.rooms);
        if !rooms.messages.contains_key(message.id()) {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "message {} is not stored",
                message.id()
            )));
        }
        let seq = rooms.next_seq(message.room().key());
        rooms.messages.insert(message.id().clone(), message.clone());
        rooms.last_change.insert(message.id().clone(), seq);
        Ok(seq)
    }

    async fn history(
        &self,
        room: RoomKey,
        query: HistoryQuery,
    ) -> Result<Vec<Message>, StoreError> {
        let rooms = lock(&self.rooms);
        let in_range = |m: &&Message| {
            query.after.is_none_or(|after| m.seq() > after)
                && query.before.is_none_or(|before| m.seq() < before)
        };
        let page = match query.order {
            HistoryOrder::OldestFirst => rooms
                .in_room(room)
                .filter(in_range)
                .skip(query.skip)
                .take(query.limit)
                .cloned()
                .collect(),
            HistoryOrder::NewestFirst => rooms
                .in_room(room)
                .rev()
                .filter(in_range)
                .skip(query.skip)
                .take(query.limit)
                .cloned()
                .collect(),
        };
        Ok(page)
    }

    async fn events_since(
        &self,
        room: RoomKey,
        after: Seq,
        limit: usize,
    ) -> Result<RoomChanges, StoreError> {
        let rooms = lock(&self.rooms);
        let changed: Vec<ChangedMessage> = rooms
            .in_room(room)
            .map(|message| (message, rooms.last_change.get(message.id()).copied()))
            .filter(|(message, change)| message.seq() > after || change.is_some_and(|c| c > after))
            .take(limit.saturating_add(1))
            .map(|(message, last_change)| ChangedMessage {
                message: message.clone(),
                last_change,
            })
            .collect();
        Ok(RoomChanges {
            changed: (changed.len() <= limit).then_some(changed),
            last_seq: rooms.last_seq.get(&room).copied(),
        })
    }

    async fn activity(
        &self,
        room: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> Result<RoomActivity, StoreError> {
        Ok(lock(&self.rooms).activity(room, reader, read_up_to))
    }

    async fn activities(
        &self,
        reader: UserId,
        rooms: &[(RoomKey, Option<Seq>)],
    ) -> Result<Vec<RoomActivity>, StoreError> {
        let stored = lock(&self.rooms);
        Ok(rooms
            .iter()
            .map(|(room, read_up_to)| stored.activity(*room, reader, *read_up_to))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, CommunityId, MessageBody, RoomId, RoomRef, Timestamp, UserProfile};

    use super::*;

    fn new_message(id: &str, room: RoomRef) -> NewMessage {
        NewMessage {
            id: MessageId::parse(id).expect("id"),
            room,
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse("hi").expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
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

        let first = store
            .append(new_message("a", dm))
            .await
            .expect("stored")
            .into_message();
        let other_room = store
            .append(new_message("b", channel))
            .await
            .expect("stored")
            .into_message();
        let second = store
            .append(new_message("c", dm))
            .await
            .expect("stored")
            .into_message();
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
    async fn history_pages_by_sequence_number_in_either_order() {
        let store = MemoryMessageStore::default();
        let dm = RoomRef::Direct(RoomId::new(5));
        for id in ["a", "b", "c", "d"] {
            store
                .append(new_message(id, dm))
                .await
                .expect("stored")
                .into_message();
        }
        let query = |before: Option<u64>, after: Option<u64>, order| HistoryQuery {
            before: before.map(Seq::new),
            after: after.map(Seq::new),
            order,
            skip: 0,
            limit: 2,
        };
        let ids = |page: Vec<Message>| {
            page.iter()
                .map(|m| m.id().as_str().to_owned())
                .collect::<Vec<_>>()
        };

        let newest = store
            .history(dm.key(), query(None, None, HistoryOrder::NewestFirst))
            .await
            .expect("page");
        let older = store
            .history(dm.key(), query(Some(3), None, HistoryOrder::NewestFirst))
            .await
            .expect("page");
        let oldest = store
            .history(dm.key(), query(None, Some(1), HistoryOrder::OldestFirst))
            .await
            .expect("page");

        assert_eq!(ids(newest), ["d", "c"]);
        assert_eq!(ids(older), ["b", "a"]);
        assert_eq!(ids(oldest), ["b", "c"]);
    }

    #[tokio::test]
    async fn unread_counts_live_messages_of_others_after_the_marker() {
        let store = MemoryMessageStore::default();
        let dm = RoomRef::Direct(RoomId::new(5));
        let reader = UserId::new(2);
        for id in ["a", "b", "c"] {
            store
                .append(new_message(id, dm))
                .await
                .expect("stored")
                .into_message();
        }
        let mut own = new_message("mine", dm);
        own.author = UserProfile::anonymous(reader);
        store.append(own).await.expect("stored").into_message();

        let all = store
            .activity(dm.key(), reader, None)
            .await
            .expect("activity");
        let after_first = store
            .activity(dm.key(), reader, Some(Seq::new(1)))
            .await
            .expect("activity");

        assert_eq!(all.unread, 3);
        assert_eq!(after_first.unread, 2);
        assert_eq!(all.last_seq, Some(Seq::new(4)));
    }

    #[tokio::test]
    async fn a_stored_message_is_found_by_id_with_its_latest_state() {
        let store = MemoryMessageStore::default();
        let dm = RoomRef::Direct(RoomId::new(5));
        let stored = store
            .append(new_message("a", dm))
            .await
            .expect("stored")
            .into_message();
        let tombstone = stored
            .deleted(UserId::new(1), Timestamp::from_unix_micros(5))
            .expect("deleted");
        store.update(&tombstone).await.expect("updated");

        let found = store.find(stored.id()).await.expect("read");

        assert_eq!(found, Some(tombstone));
    }
}

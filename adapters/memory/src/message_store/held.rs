//! What the embedded store holds: each room's messages by seq within the store's limits,
//! and, for what it dropped, how far each room's lost events reach, so that a resume from
//! before them is told it missed something instead of being sent less than it missed.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use application::ports::outbound::{
    ChangedMessage, HistoryOrder, HistoryQuery, RoomActivity, RoomChanges,
};
use domain::{ClientMsgId, Message, MessageId, NewMessage, RoomKey, Seq, Timestamp, UserId};

use super::footprint::footprint;
use super::limits::MemoryStoreLimits;
use crate::recent_map::RecentMap;

/// Most messages dropped for their age in one call, so that a store left idle while many
/// messages aged does not hold its lock for long; the rest go on the following calls.
const AGE_SWEEP_STEP: usize = 4096;

/// Why messages were dropped, for the store's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Eviction {
    /// Past `max_messages_per_room`.
    RoomLimit = 0,
    /// Older than `max_age`.
    Age = 1,
    /// Past `max_bytes`.
    Bytes = 2,
    /// Its room was forgotten (past `max_rooms`).
    RoomForgotten = 3,
}

impl Eviction {
    pub(super) const ALL: [Self; 4] =
        [Self::RoomLimit, Self::Age, Self::Bytes, Self::RoomForgotten];
}

/// Messages dropped, by [`Eviction`] (indexed by its discriminant).
pub(super) type Evicted = [u64; 4];

#[derive(Debug)]
struct Held {
    message: Message,
    /// The seq of its last edit or delete, as Mongo's `changeSeq`.
    last_change: Option<Seq>,
    /// Its place in the store-wide posting order.
    order: u64,
    /// Its estimated footprint.
    bytes: usize,
}

impl Held {
    /// The newest seq of an event about this message (its post, its last edit or delete).
    fn newest_event(&self) -> Seq {
        self.last_change
            .map_or(self.message.seq(), |change| change.max(self.message.seq()))
    }
}

#[derive(Debug)]
struct Room {
    /// The room's held messages by posting seq: the history index.
    messages: BTreeMap<Seq, Held>,
    /// The newest seq assigned in the room (posts, edits and deletes).
    last_seq: Seq,
    /// The newest seq of an event the store no longer holds (a dropped message's post,
    /// edit or delete): who saw the room only up to before it cannot be caught up.
    lost_through: Option<Seq>,
}

impl Room {
    /// A room the store does not know, numbered after `floor`, whose events up to it (if
    /// any) count as lost: it may be one that was forgotten.
    fn after(floor: Option<Seq>) -> Self {
        Self {
            messages: BTreeMap::new(),
            last_seq: floor.unwrap_or(Seq::new(0)),
            lost_through: floor,
        }
    }

    fn next_seq(&mut self) -> Seq {
        self.last_seq = self.last_seq.next();
        self.last_seq
    }

    fn held(&self) -> impl DoubleEndedIterator<Item = &Message> {
        self.messages.values().map(|held| &held.message)
    }

    fn activity(&self, reader: UserId, read_up_to: Option<Seq>) -> RoomActivity {
        let newest = self.held().next_back();
        let unread = self
            .held()
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

    /// Forgets the message posted at `seq`; its events are lost from now on.
    fn drop_message(&mut self, seq: Seq) -> Option<Held> {
        let held = self.messages.remove(&seq)?;
        self.lost_through = self.lost_through.max(Some(held.newest_event()));
        Some(held)
    }
}

/// Every room, message and index of the store, within its limits.
#[derive(Debug)]
pub(super) struct Contents {
    limits: MemoryStoreLimits,
    /// Contents by how recently something was posted, edited or deleted in them.
    rooms: RecentMap<RoomKey, Room>,
    /// Where each held message is.
    ids: HashMap<MessageId, (RoomKey, Seq)>,
    /// The message each author stored under each client key, per room, while it is held.
    client_keys: HashMap<(RoomKey, UserId, ClientMsgId), Seq>,
    /// Every held message in the order it was posted, whatever its room: the oldest first.
    posting_order: BTreeMap<u64, (RoomKey, Seq)>,
    next_order: u64,
    /// The estimated footprint of every held message.
    bytes: usize,
    /// The newest seq of any forgotten room: a room the store does not know numbers its
    /// events after it, so that no room's numbers repeat, and a resume from below it is a
    /// gap.
    floor: Option<Seq>,
    /// Messages dropped since [`take_evicted`](Self::take_evicted).
    evicted: Evicted,
}

impl Contents {
    pub(super) fn new(limits: MemoryStoreLimits) -> Self {
        Self {
            limits,
            rooms: RecentMap::new(limits.max_rooms),
            ids: HashMap::new(),
            client_keys: HashMap::new(),
            posting_order: BTreeMap::new(),
            next_order: 0,
            bytes: 0,
            floor: None,
            evicted: [0; 4],
        }
    }

    /// Messages held.
    pub(super) fn messages(&self) -> usize {
        self.ids.len()
    }

    /// Contents remembered, with or without messages.
    pub(super) fn rooms(&self) -> usize {
        self.rooms.len()
    }

    /// The estimated footprint of the held messages.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn limits(&self) -> MemoryStoreLimits {
        self.limits
    }

    /// The messages dropped since the last call, by reason.
    pub(super) fn take_evicted(&mut self) -> Evicted {
        std::mem::take(&mut self.evicted)
    }

    pub(super) fn by_client_key(
        &self,
        room: RoomKey,
        author: UserId,
        key: &ClientMsgId,
    ) -> Option<&Message> {
        // The tuple key owns its parts, so the lookup clones the (short) key.
        let seq = self.client_keys.get(&(room, author, key.clone()))?;
        self.message_at(room, *seq)
    }

    pub(super) fn find(&self, id: &MessageId) -> Option<&Message> {
        let (room, seq) = self.ids.get(id)?;
        self.message_at(*room, *seq)
    }

    fn message_at(&self, room: RoomKey, seq: Seq) -> Option<&Message> {
        self.rooms
            .peek(&room)?
            .messages
            .get(&seq)
            .map(|held| &held.message)
    }

    /// Holds `new` at its room's next seq, then drops what the limits no longer allow.
    pub(super) fn append(&mut self, new: NewMessage) -> Message {
        let key = new.room.key();
        let author = new.author.id;
        let floor = self.floor;
        let order = self.next_order;
        self.next_order += 1;
        let (room, forgotten) = self.rooms.use_or_insert_with(key, || Room::after(floor));
        let seq = room.next_seq();
        let message = new.stored_at(seq);
        let bytes = footprint(&message);
        room.messages.insert(
            seq,
            Held {
                message: message.clone(),
                last_change: None,
                order,
                bytes,
            },
        );
        let mut over_limit = Vec::new();
        while room.messages.len() > self.limits.max_messages_per_room {
            let Some(oldest) = room.messages.first_key_value().map(|(seq, _)| *seq) else {
                break;
            };
            over_limit.extend(room.drop_message(oldest));
        }
        self.ids.insert(message.id().clone(), (key, seq));
        if let Some(client_key) = message.client_msg_id() {
            self.client_keys
                .insert((key, author, client_key.clone()), seq);
        }
        self.posting_order.insert(order, (key, seq));
        self.bytes += bytes;
        for held in over_limit {
            self.unindex(key, &held, Eviction::RoomLimit);
        }
        for (room, forgotten) in forgotten {
            self.forget_room(room, forgotten);
        }
        self.drop_over_budget();
        message
    }

    /// Replaces a held message by its edited or deleted version at its room's next seq;
    /// `None` when the message is not held (never stored, or dropped).
    pub(super) fn update(&mut self, message: &Message) -> Option<Seq> {
        let (key, posted) = *self.ids.get(message.id())?;
        let room = self.rooms.get_mut(&key)?;
        let seq = room.next_seq();
        let held = room.messages.get_mut(&posted)?;
        let bytes = footprint(message);
        self.bytes = self.bytes - held.bytes + bytes;
        held.message = message.clone();
        held.last_change = Some(seq);
        held.bytes = bytes;
        self.drop_over_budget();
        Some(seq)
    }

    /// Drops the messages posted longer than `max_age` before `now` (at most
    /// [`AGE_SWEEP_STEP`] of them); whether it dropped any.
    pub(super) fn drop_aged(&mut self, now: Timestamp) -> bool {
        let Some(max_age) = self.limits.max_age else {
            return false;
        };
        let max_age = i64::try_from(max_age.as_micros()).unwrap_or(i64::MAX);
        let cutoff = now.unix_micros().saturating_sub(max_age);
        let mut dropped = false;
        for _ in 0..AGE_SWEEP_STEP {
            let Some((_, &(room, seq))) = self.posting_order.first_key_value() else {
                break;
            };
            let aged = self
                .message_at(room, seq)
                .is_none_or(|message| message.sent_at().unix_micros() < cutoff);
            if !aged {
                break;
            }
            dropped |= self.drop_oldest(Eviction::Age);
        }
        dropped
    }

    /// Drops the oldest messages of any room while the held ones are over `max_bytes`.
    fn drop_over_budget(&mut self) {
        while self.bytes > self.limits.max_bytes && self.drop_oldest(Eviction::Bytes) {}
    }

    /// Drops the message posted first of all those held; `false` when none is held.
    fn drop_oldest(&mut self, reason: Eviction) -> bool {
        let Some((_, (key, seq))) = self.posting_order.pop_first() else {
            return false;
        };
        let held = self
            .rooms
            .peek_mut(&key)
            .and_then(|room| room.drop_message(seq));
        if let Some(held) = held {
            self.unindex(key, &held, reason);
        }
        true
    }

    /// Forgets a room pushed out of the room table, with its messages; rooms the store does
    /// not know are numbered after its newest seq from now on.
    fn forget_room(&mut self, key: RoomKey, room: Room) {
        self.floor = self.floor.max(Some(room.last_seq));
        for held in room.messages.into_values() {
            self.unindex(key, &held, Eviction::RoomForgotten);
        }
    }

    /// Removes a message taken out of its room from every index.
    fn unindex(&mut self, room: RoomKey, held: &Held, reason: Eviction) {
        let message = &held.message;
        self.ids.remove(message.id());
        if let Some(client_key) = message.client_msg_id() {
            let entry = (room, message.author().id, client_key.clone());
            if self.client_keys.get(&entry) == Some(&message.seq()) {
                self.client_keys.remove(&entry);
            }
        }
        self.posting_order.remove(&held.order);
        self.bytes -= held.bytes;
        self.evicted[reason as usize] += 1;
    }

    /// A page of the room's held messages (see `MessageStore::history`).
    pub(super) fn history(&self, key: RoomKey, query: HistoryQuery) -> Vec<Message> {
        let Some(room) = self.rooms.peek(&key) else {
            return Vec::new();
        };
        if let (Some(after), Some(before)) = (query.after, query.before)
            && after >= before
        {
            return Vec::new();
        }
        let lower = query.after.map_or(Bound::Unbounded, Bound::Excluded);
        let upper = query.before.map_or(Bound::Unbounded, Bound::Excluded);
        let range = room
            .messages
            .range((lower, upper))
            .map(|(_, held)| &held.message);
        match query.order {
            HistoryOrder::OldestFirst => {
                range.skip(query.skip).take(query.limit).cloned().collect()
            }
            HistoryOrder::NewestFirst => range
                .rev()
                .skip(query.skip)
                .take(query.limit)
                .cloned()
                .collect(),
        }
    }

    /// What became of the room since `after` (see `MessageStore::events_since`). When the
    /// store dropped an event numbered after `after`, or forgot the room, it cannot say:
    /// the answer is `changed: None`, as for more than `limit`, and the reader reloads
    /// the room's history.
    pub(super) fn events_since(&self, key: RoomKey, after: Seq, limit: usize) -> RoomChanges {
        let Some(room) = self.rooms.peek(&key) else {
            return match self.floor {
                Some(floor) if floor > after => RoomChanges {
                    changed: None,
                    last_seq: Some(floor),
                },
                _ => RoomChanges {
                    changed: Some(Vec::new()),
                    last_seq: None,
                },
            };
        };
        if room.lost_through.is_some_and(|lost| lost > after) {
            return RoomChanges {
                changed: None,
                last_seq: Some(room.last_seq),
            };
        }
        let changed: Vec<ChangedMessage> = room
            .messages
            .values()
            .filter(|held| held.newest_event() > after)
            .take(limit.saturating_add(1))
            .map(|held| ChangedMessage {
                message: held.message.clone(),
                last_change: held.last_change,
            })
            .collect();
        RoomChanges {
            changed: (changed.len() <= limit).then_some(changed),
            last_seq: Some(room.last_seq),
        }
    }

    pub(super) fn activity(
        &self,
        key: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> RoomActivity {
        self.rooms
            .peek(&key)
            .map(|room| room.activity(reader, read_up_to))
            .unwrap_or_default()
    }
}

use domain::{ClientMsgId, Message, MessageId, NewMessage, RoomKey, Seq, Timestamp, UserId};

/// Durable store of messages and tombstones. The store, and only the store,
/// assigns each room event its per-room [`Seq`]; a room's numbers only grow, never repeat.
///
/// A store may keep only part of the history (the embedded one keeps recent messages within
/// bounds): what it dropped is gone from every answer, a client key is forgotten with its
/// message, and [`events_since`](Self::events_since) never answers as if a dropped event
/// had not happened.
///
/// Implemented by `adapters/memory` (`MemoryMessageStore`); mocked as `MockMessageStore`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Store a new message durably and give it the next sequence number of its room.
    ///
    /// A message with a [`ClientMsgId`] is stored at most once per author, room and key,
    /// whichever instance appends it, and the key is kept with it for good: when one is
    /// already stored (a repeat that raced past [`find_by_client_msg_id`](Self::find_by_client_msg_id)),
    /// nothing is stored and that one is returned as [`Appended::Existing`].
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed; nothing was stored.
    async fn append(&self, message: NewMessage) -> Result<Appended, StoreError>;

    /// The message `author` posted in `room` under the client's `key`, if any. Asked before
    /// an append, so that a repeat takes no sequence number.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn find_by_client_msg_id(
        &self,
        room: RoomKey,
        author: UserId,
        key: &ClientMsgId,
    ) -> Result<Option<Message>, StoreError>;

    /// The message with this id, live or tombstone.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError>;

    /// The stored messages among `ids` (unknown ids are left out), in one round trip.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn find_many(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError>;

    /// Replace a stored message by its edited or deleted version and give that
    /// change the next sequence number of its room.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed; nothing was changed.
    async fn update(&self, message: &Message) -> Result<Seq, StoreError>;

    /// Messages and tombstones of `room` whose posting [`Seq`] lies strictly between
    /// `query.after` and `query.before`, in `query.order`, skipping `query.skip`,
    /// at most `query.limit`. Keyset pagination on `Seq`: a page never repeats or
    /// misses a message, whatever is posted meanwhile.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn history(&self, room: RoomKey, query: HistoryQuery)
    -> Result<Vec<Message>, StoreError>;

    /// What became of `room` since the event numbered `after`: every message posted
    /// after it, and every message posted at or before it whose last edit or delete
    /// came after it, each with the seq of its last change; in no particular order.
    /// When more than `limit` messages match, or the store no longer holds an event
    /// numbered after `after` (a store that keeps part of the history), none is returned
    /// (the caller sends the reader to the history instead). Also the room's newest
    /// assigned seq (at least the newest one the store dropped).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn events_since(
        &self,
        room: RoomKey,
        after: Seq,
        limit: usize,
    ) -> Result<RoomChanges, StoreError>;

    /// What `reader` has not read in `room`: live messages of others posted after
    /// `read_up_to`, and when the room's last message was posted.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn activity(
        &self,
        room: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> Result<RoomActivity, StoreError>;

    /// [`activity`](Self::activity) of many rooms for one reader, each room given with the
    /// reader's marker in it, answered in the order asked, in one round trip (one
    /// aggregation) whatever the number of rooms.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn activities(
        &self,
        reader: UserId,
        rooms: &[(RoomKey, Option<Seq>)],
    ) -> Result<Vec<RoomActivity>, StoreError>;
}

/// What [`MessageStore::append`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now, with the room's next sequence number.
    New(Message),
    /// Not stored: the author's message with the same client key in that room, as stored
    /// before (already published, or being published, by whoever stored it).
    Existing(Message),
}

impl Appended {
    /// The stored message, new or not.
    pub fn into_message(self) -> Message {
        match self {
            Self::New(message) | Self::Existing(message) => message,
        }
    }
}

/// Which way a history page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryOrder {
    /// Highest `Seq` first.
    NewestFirst,
    /// Lowest `Seq` first.
    OldestFirst,
}

/// A slice of a room's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only messages posted before this one.
    pub before: Option<Seq>,
    /// Only messages posted after this one.
    pub after: Option<Seq>,
    /// Which way the page runs.
    pub order: HistoryOrder,
    /// Messages to pass over first (the seed's page numbers).
    pub skip: usize,
    /// Most messages returned.
    pub limit: usize,
}

/// A stored message with the seq of its last edit or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMessage {
    /// The message as it is now, live or tombstone.
    pub message: Message,
    /// The seq of its last edit or delete; `None` if it was never changed.
    pub last_change: Option<Seq>,
}

/// The answer of [`MessageStore::events_since`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomChanges {
    /// The messages changed since, or `None` when there are more than the limit or the
    /// store dropped some of what changed.
    pub changed: Option<Vec<ChangedMessage>>,
    /// The room's newest assigned seq (posts, edits and deletes alike); `None` for a
    /// room without events.
    pub last_seq: Option<Seq>,
}

/// Unread messages and recency of a room for one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoomActivity {
    /// Live messages of others after the reader's marker.
    pub unread: u64,
    /// When the room's newest message was posted.
    pub last_message_at: Option<Timestamp>,
    /// The newest message's [`Seq`].
    pub last_seq: Option<Seq>,
}

/// Failures of the message store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or failed; the cause is attached.
    #[error("message store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

//! The message store and read markers chosen by configuration: in process
//! (embedded mode) or MongoDB (`[mongo]` present).

use adapter_memory::{MemoryMessageStore, MemoryReadMarkers};
use adapter_mongo::{MongoMessageStore, MongoReadMarkers};
use application::ports::outbound::{
    HistoryQuery, MarkerError, MessageStore, ReadMarkers, RoomActivity, StoreError,
};
use domain::{Message, MessageId, NewMessage, RoomKey, Seq, UserId};

/// One of the two message-store adapters; delegates every call to it.
pub enum Store {
    /// In process.
    Memory(MemoryMessageStore),
    /// MongoDB.
    Mongo(MongoMessageStore),
}

/// One of the two read-marker adapters; delegates every call to it.
pub enum Markers {
    /// In process.
    Memory(MemoryReadMarkers),
    /// MongoDB.
    Mongo(MongoReadMarkers),
}

impl MessageStore for Store {
    async fn append(&self, message: NewMessage) -> Result<Message, StoreError> {
        match self {
            Self::Memory(store) => store.append(message).await,
            Self::Mongo(store) => store.append(message).await,
        }
    }

    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        match self {
            Self::Memory(store) => store.find(id).await,
            Self::Mongo(store) => store.find(id).await,
        }
    }

    async fn find_many(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
        match self {
            Self::Memory(store) => store.find_many(ids).await,
            Self::Mongo(store) => store.find_many(ids).await,
        }
    }

    async fn update(&self, message: &Message) -> Result<Seq, StoreError> {
        match self {
            Self::Memory(store) => store.update(message).await,
            Self::Mongo(store) => store.update(message).await,
        }
    }

    async fn history(
        &self,
        room: RoomKey,
        query: HistoryQuery,
    ) -> Result<Vec<Message>, StoreError> {
        match self {
            Self::Memory(store) => store.history(room, query).await,
            Self::Mongo(store) => store.history(room, query).await,
        }
    }

    async fn activity(
        &self,
        room: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> Result<RoomActivity, StoreError> {
        match self {
            Self::Memory(store) => store.activity(room, reader, read_up_to).await,
            Self::Mongo(store) => store.activity(room, reader, read_up_to).await,
        }
    }

    async fn activities(
        &self,
        reader: UserId,
        rooms: &[(RoomKey, Option<Seq>)],
    ) -> Result<Vec<RoomActivity>, StoreError> {
        match self {
            Self::Memory(store) => store.activities(reader, rooms).await,
            Self::Mongo(store) => store.activities(reader, rooms).await,
        }
    }
}

impl ReadMarkers for Markers {
    async fn mark_read(&self, user: UserId, room: RoomKey, seq: Seq) -> Result<(), MarkerError> {
        match self {
            Self::Memory(markers) => markers.mark_read(user, room, seq).await,
            Self::Mongo(markers) => markers.mark_read(user, room, seq).await,
        }
    }

    async fn read_up_to(&self, user: UserId, room: RoomKey) -> Result<Option<Seq>, MarkerError> {
        match self {
            Self::Memory(markers) => markers.read_up_to(user, room).await,
            Self::Mongo(markers) => markers.read_up_to(user, room).await,
        }
    }

    async fn read_up_to_many(
        &self,
        user: UserId,
        rooms: &[RoomKey],
    ) -> Result<Vec<Option<Seq>>, MarkerError> {
        match self {
            Self::Memory(markers) => markers.read_up_to_many(user, rooms).await,
            Self::Mongo(markers) => markers.read_up_to_many(user, rooms).await,
        }
    }
}

use domain::{Message, MessageId, NewMessage, Seq};

/// Durable store of messages and tombstones. The store, and only the store,
/// assigns each room event its per-room [`Seq`].
///
/// Implemented by `adapters/memory` (`MemoryMessageStore`); mocked as `MockMessageStore`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[trait_variant::make(Send)]
pub trait MessageStore: Send + Sync + 'static {
    /// Store a new message durably and give it the next sequence number of its room.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed; nothing was stored.
    async fn append(&self, message: NewMessage) -> Result<Message, StoreError>;

    /// The message with this id, live or tombstone.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed.
    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError>;

    /// Replace a stored message by its edited or deleted version and give that
    /// change the next sequence number of its room.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store failed; nothing was changed.
    async fn update(&self, message: &Message) -> Result<Seq, StoreError>;
}

/// Failures of the message store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or failed; the cause is attached.
    #[error("message store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

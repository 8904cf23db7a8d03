//! Idempotent sends: a post or reply that carries a client key is stored once per author,
//! room and key. A repeat (the client retrying after a lost answer, on any instance) is
//! answered with the message the first send stored, and stores and publishes nothing.
//! Shared by the use cases that post.

use domain::{ChatEvent, ClientMsgId, Message, RoomRef, UserId};

use super::publish_stored::publish_stored;
use crate::ports::outbound::{Appended, BusError, EventBus, MessageStore, StoreError};

/// The message an earlier send of `author` with `key` stored in `room`, if this send
/// repeats it. Asked before anything is stored, so a repeat takes no sequence number.
///
/// # Errors
/// [`StoreError`] when the store could not be asked.
pub(crate) async fn earlier_send(
    store: &dyn MessageStore,
    room: RoomRef,
    author: UserId,
    key: Option<&ClientMsgId>,
) -> Result<Option<Message>, StoreError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let earlier = store.find_by_client_msg_id(room.key(), author, key).await?;
    if let Some(message) = &earlier {
        tracing::info!(
            id = %message.id(),
            seq = %message.seq(),
            "a repeated send: answered with the message stored the first time"
        );
    }
    Ok(earlier)
}

/// Publishes a message the append stored now (retried, see [`publish_stored`]). One the
/// store already held (a repeat that raced its original past [`earlier_send`], on another
/// instance) is published by whoever stored it, and only returned here.
///
/// # Errors
/// [`BusError`] when every attempt to publish a new message failed.
pub(crate) async fn publish_if_new(
    bus: &dyn EventBus,
    appended: Appended,
) -> Result<Message, BusError> {
    match appended {
        Appended::New(message) => {
            publish_stored(bus, &ChatEvent::Posted(message.clone())).await?;
            Ok(message)
        }
        Appended::Existing(original) => {
            tracing::info!(
                id = %original.id(),
                seq = %original.seq(),
                "a repeated send raced its original: answered with the stored message"
            );
            Ok(original)
        }
    }
}

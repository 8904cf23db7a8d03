//! What a held message costs in memory, estimated from its text: the store's byte budget
//! (`max_bytes`) counts this, so that long messages use it up sooner than short ones.

use domain::{Message, MessageState, ParentContent};

/// The part of a message's cost that does not depend on its text: its struct, its slots in
/// the store's indexes (its room's, the ids', the posting order's, the client keys') and the
/// allocator's rounding. Measured (`store-memory` load tool): a server holding 40,000 to
/// 200,000 messages of about 100 characters grows by about this much per message beyond
/// their text.
pub(super) const FIXED_BYTES: usize = 950;

/// The estimated bytes `message` takes while held.
pub(super) fn footprint(message: &Message) -> usize {
    let parts = message.parts();
    let body = match &parts.state {
        MessageState::Live { body, .. } => body.as_str().len(),
        MessageState::Deleted { .. } => 0,
    };
    let parent = parts.parent.as_ref().map_or(0, |parent| {
        let text = match &parent.content {
            ParentContent::Text(text) => text.len(),
            ParentContent::Deleted => 0,
        };
        parent.id.as_str().len() + parent.author_name.len() + text
    });
    let attachment = parts.attachment.as_ref().map_or(0, |attachment| {
        attachment.file_type.as_str().len()
            + attachment
                .thumbnail
                .as_ref()
                .map_or(0, |url| url.as_str().len())
    });
    // The id is held twice (the message and the id index), the client key twice (the
    // message and the client keys' index).
    let id = 2 * parts.id.as_str().len();
    let key = parts
        .client_msg_id
        .as_ref()
        .map_or(0, |key| 2 * key.as_str().len());
    let author = parts.author.name.len() + parts.author.image.as_ref().map_or(0, String::len);
    FIXED_BYTES + id + key + author + body + parent + attachment
}

#[cfg(test)]
mod tests {
    use domain::UserProfile;
    use domain::{MessageBody, MessageId, NewMessage, RoomId, RoomRef, Seq, Timestamp, UserId};

    use super::*;

    fn message(text: &str) -> Message {
        NewMessage {
            id: MessageId::parse("0123456789abcdef01234567").expect("id"),
            room: RoomRef::Direct(RoomId::new(5)),
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse(text).expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(0),
        }
        .stored_at(Seq::FIRST)
    }

    #[test]
    fn a_message_costs_its_fixed_part_and_its_text() {
        let short = footprint(&message("hi"));
        let long = footprint(&message(&"x".repeat(4000)));

        assert_eq!(short, FIXED_BYTES + 48 + 1 + 2);
        assert_eq!(long - short, 3998);
    }
}

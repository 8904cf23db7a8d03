//! The stored shape of a message: the seed's `directMessage` / `channelMessage`
//! documents (`channelId`, `communityId`, `userId`, `name`, `profileImage`, `content`,
//! `type`, `parentId`, `parentName`, `parentContent`, `localDateTime` as a BSON Date),
//! plus the fields the seed lacked. Mapping both ways lives here and nowhere else.
//!
//! Our own fields:
//! - `_id`: the domain [`MessageId`] as a string. The seed's `_id`s are `ObjectId`s;
//!   they read back as their hex text, and [`id_match`] finds them by that text.
//! - `seq`: the posting sequence number (history is keyset-paginated on it).
//! - `sentAtMicros`, `editedAtMicros`, `deletedAtMicros`: exact instants. A BSON Date
//!   holds milliseconds while the domain keeps microseconds; `localDateTime` stays for
//!   readers of the seed's shape, the micros make a stored message read back unchanged.
//! - `deleted: true`: a tombstone (its `content` is removed).
//! - `parentUserId`, `parentDeleted`: the parts of a reply's parent snapshot the seed
//!   did not keep.
//! - `changeSeq`: the sequence number of the last edit or delete (written by
//!   [`state_update`]; read by the update filter and the replay since a seq).
//! - `clientMsgId`: the sender's key for the message, when it gave one; unique per
//!   room and author (`indexes.rs`), so a repeated send is stored once.

use domain::{
    Attachment, ChannelId, ClientMsgId, CommunityId, FileType, FileUrl, Message, MessageBody,
    MessageId, MessageParts, MessageState, ParentContent, ParentSnapshot, RoomId, RoomRef, Seq,
    Timestamp, UserId, UserProfile,
};
use mongodb::bson::{self, Bson, DateTime, Document, doc, oid::ObjectId};
use serde::{Deserialize, Serialize};

use crate::rooms::MessageCollection;

/// Why a message could not be written as a document or read back from one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MappingError {
    /// The document does not have the fields and types of a message document.
    #[error("not a message document: {0}")]
    Shape(#[from] bson::de::Error),
    /// The document could not be built.
    #[error("cannot encode the message: {0}")]
    Encode(#[from] bson::ser::Error),
    /// A field is present but unusable.
    #[error("field `{field}`: {reason}")]
    Field { field: &'static str, reason: String },
}

fn field_error(field: &'static str, reason: impl Into<String>) -> MappingError {
    MappingError::Field {
        field,
        reason: reason.into(),
    }
}

/// A message document as stored. A file message is the seed's: `content` the file's
/// URL, `thumbnail` the preview's URL, `type` the file type. Unknown fields (the seed's
/// `_class`, `read`, `categoryId`) are ignored on read and kept by updates, which only `$set`
/// what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageDocument {
    #[serde(rename = "_id")]
    id: Bson,
    channel_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    community_id: Option<i64>,
    user_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile_image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    /// The seed's `type`: absent for text, `reply` for replies, a file type for files.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thumbnail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_deleted: Option<bool>,
    local_date_time: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_at_micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    edited_at_micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at_micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_msg_id: Option<String>,
}

/// The posting fields of a message document, enough for a room's activity.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostingDocument {
    seq: i64,
    local_date_time: DateTime,
    #[serde(default)]
    sent_at_micros: Option<i64>,
}

/// The fields [`posting`] reads, as a projection.
pub(crate) fn posting_projection() -> Document {
    doc! { "_id": 0, "seq": 1, "localDateTime": 1, "sentAtMicros": 1 }
}

/// The document a new message is inserted as.
pub(crate) fn encode(message: &Message) -> Result<Document, MappingError> {
    let parts = message.parts();
    let (community_id, channel_id) = match parts.room {
        RoomRef::Direct(room) => (None, to_long("channelId", room.get())?),
        RoomRef::Channel { community, channel } => (
            Some(to_long("communityId", community.get())?),
            to_long("channelId", channel.get())?,
        ),
    };
    let (content, edited_at_micros, deleted, deleted_at_micros) = match &parts.state {
        MessageState::Live { body, edited_at } => (
            Some(body.as_str().to_owned()),
            edited_at.map(Timestamp::unix_micros),
            None,
            None,
        ),
        MessageState::Deleted { at } => (None, None, Some(true), Some(at.unix_micros())),
    };
    let parent = parts.parent.as_ref();
    let document = MessageDocument {
        id: Bson::String(parts.id.as_str().to_owned()),
        channel_id,
        community_id,
        user_id: to_long("userId", parts.author.id.get())?,
        name: Some(parts.author.name.clone()),
        profile_image: parts.author.image.clone(),
        content,
        kind: match (&parts.attachment, parent) {
            (Some(attachment), _) => Some(attachment.file_type.as_str().to_owned()),
            (None, Some(_)) => Some("reply".to_owned()),
            (None, None) => None,
        },
        thumbnail: parts
            .attachment
            .as_ref()
            .and_then(|a| a.thumbnail.as_ref())
            .map(|t| t.as_str().to_owned()),
        parent_id: parent.map(|p| p.id.as_str().to_owned()),
        parent_user_id: parent
            .map(|p| to_long("parentUserId", p.author.get()))
            .transpose()?,
        parent_name: parent.map(|p| p.author_name.clone()),
        parent_content: parent.and_then(|p| match &p.content {
            ParentContent::Text(text) => Some(text.clone()),
            ParentContent::Deleted => None,
        }),
        parent_deleted: parent
            .filter(|p| p.content == ParentContent::Deleted)
            .map(|_| true),
        local_date_time: to_date(parts.sent_at),
        sent_at_micros: Some(parts.sent_at.unix_micros()),
        seq: Some(to_long("seq", parts.seq.get())?),
        edited_at_micros,
        deleted,
        deleted_at_micros,
        client_msg_id: parts
            .client_msg_id
            .as_ref()
            .map(|key| key.as_str().to_owned()),
    };
    Ok(bson::to_document(&document)?)
}

/// The update that turns a stored message into `message` (edited or tombstone) and
/// records `change` as its last change. Only the state is written: the rest of a
/// message never changes, and fields this adapter does not know stay as they are.
pub(crate) fn state_update(message: &Message, change: Seq) -> Result<Document, MappingError> {
    let change = to_long("changeSeq", change.get())?;
    Ok(match message.state() {
        MessageState::Live { body, edited_at } => {
            let mut set = doc! { "content": body.as_str(), "changeSeq": change };
            let mut unset = doc! { "deleted": "", "deletedAtMicros": "" };
            match edited_at {
                Some(at) => set.insert("editedAtMicros", at.unix_micros()),
                None => unset.insert("editedAtMicros", ""),
            };
            doc! { "$set": set, "$unset": unset }
        }
        MessageState::Deleted { at } => doc! {
            "$set": { "deleted": true, "deletedAtMicros": at.unix_micros(), "changeSeq": change },
            // A tombstone keeps no text.
            "$unset": { "content": "", "editedAtMicros": "" },
        },
    })
}

/// Reads a message document of `collection` back into a domain message.
pub(crate) fn decode(
    collection: MessageCollection,
    document: Document,
) -> Result<Message, MappingError> {
    let stored: MessageDocument = bson::from_document(document)?;
    let id = decode_id(&stored.id)?;
    let channel_id = to_id("channelId", stored.channel_id)?;
    let room = match collection {
        MessageCollection::Direct => RoomRef::Direct(RoomId::new(channel_id)),
        MessageCollection::Channel => {
            let community = stored
                .community_id
                .ok_or_else(|| field_error("communityId", "missing on a channel message"))?;
            RoomRef::Channel {
                community: CommunityId::new(to_id("communityId", community)?),
                channel: ChannelId::new(channel_id),
            }
        }
    };
    let author_id = UserId::new(to_id("userId", stored.user_id)?);
    let author = UserProfile {
        id: author_id,
        name: stored.name.unwrap_or_else(|| author_id.to_string()),
        image: stored.profile_image,
    };
    let state = if stored.deleted == Some(true) {
        let at = stored
            .deleted_at_micros
            .ok_or_else(|| field_error("deletedAtMicros", "missing on a tombstone"))?;
        MessageState::Deleted {
            at: Timestamp::from_unix_micros(at),
        }
    } else {
        let content = stored
            .content
            .ok_or_else(|| field_error("content", "missing on a live message"))?;
        MessageState::Live {
            body: MessageBody::parse(&content)
                .map_err(|error| field_error("content", error.to_string()))?,
            edited_at: stored.edited_at_micros.map(Timestamp::from_unix_micros),
        }
    };
    let parent = match stored.parent_id {
        Some(parent_id) => {
            // The seed did not keep the parent's author; its `parentName` is whatever
            // the replying client sent. The replier stands in for the unknown author.
            let parent_author = match stored.parent_user_id {
                Some(raw) => UserId::new(to_id("parentUserId", raw)?),
                None => author_id,
            };
            Some(ParentSnapshot {
                id: MessageId::parse(&parent_id)
                    .map_err(|error| field_error("parentId", error.to_string()))?,
                author: parent_author,
                author_name: stored
                    .parent_name
                    .unwrap_or_else(|| parent_author.to_string()),
                content: if stored.parent_deleted == Some(true) {
                    ParentContent::Deleted
                } else {
                    ParentContent::Text(stored.parent_content.unwrap_or_default())
                },
            })
        }
        None => None,
    };
    // The seed's `type` is a file type on file messages (anything but `reply`).
    let attachment = match (&parent, stored.kind.as_deref()) {
        (None, Some(kind)) if kind != "reply" => Some(Attachment {
            file_type: FileType::parse(kind)
                .map_err(|error| field_error("type", error.to_string()))?,
            thumbnail: stored
                .thumbnail
                .as_deref()
                .map(FileUrl::parse)
                .transpose()
                .map_err(|error| field_error("thumbnail", error.to_string()))?,
        }),
        _ => None,
    };
    let client_msg_id = stored
        .client_msg_id
        .as_deref()
        .map(ClientMsgId::parse)
        .transpose()
        .map_err(|error| field_error("clientMsgId", error.to_string()))?;
    let seq = stored.seq.ok_or_else(|| {
        field_error(
            "seq",
            "missing: written before sequence numbers (seed data needs numbering)",
        )
    })?;
    Ok(Message::from_parts(MessageParts {
        id,
        room,
        author,
        state,
        parent,
        attachment,
        client_msg_id,
        sent_at: sent_at(stored.local_date_time, stored.sent_at_micros),
        seq: Seq::new(to_id("seq", seq)?),
    }))
}

/// Reads the posting sequence number and time of a document projected with
/// [`posting_projection`].
pub(crate) fn posting(document: Document) -> Result<(Seq, Timestamp), MappingError> {
    let stored: PostingDocument = bson::from_document(document)?;
    Ok((
        Seq::new(to_id("seq", stored.seq)?),
        sent_at(stored.local_date_time, stored.sent_at_micros),
    ))
}

/// The filter of the message `author` stored in the room at `channel_id` under `key`.
pub(crate) fn client_key_match(channel_id: i64, author: UserId, key: &ClientMsgId) -> Document {
    // An id beyond i64 cannot have written anything here: -1 matches no author.
    let author = i64::try_from(author.get()).unwrap_or(-1);
    doc! { "channelId": channel_id, "userId": author, "clientMsgId": key.as_str() }
}

/// The `_id` condition matching message `id`: as we store it (a string) and, when
/// it is 24 hex digits, as the seed stored it (an `ObjectId`).
pub(crate) fn id_match(id: &MessageId) -> Bson {
    ids_match(std::slice::from_ref(id))
}

/// The `_id` condition matching any of `ids`, in both forms (see [`id_match`]).
pub(crate) fn ids_match(ids: &[MessageId]) -> Bson {
    let forms: Vec<Bson> = ids
        .iter()
        .flat_map(|id| {
            let seed_form = ObjectId::parse_str(id.as_str()).ok().map(Bson::ObjectId);
            std::iter::once(Bson::String(id.as_str().to_owned())).chain(seed_form)
        })
        .collect();
    Bson::Document(doc! { "$in": forms })
}

/// A document's `_id` as text, for logs about documents that could not be read.
pub(crate) fn document_id(document: &Document) -> String {
    match document.get("_id") {
        Some(Bson::String(id)) => id.clone(),
        Some(Bson::ObjectId(id)) => id.to_hex(),
        Some(other) => other.to_string(),
        None => "<no _id>".to_owned(),
    }
}

fn decode_id(id: &Bson) -> Result<MessageId, MappingError> {
    let text = match id {
        Bson::String(text) => text.clone(),
        Bson::ObjectId(id) => id.to_hex(),
        other => return Err(field_error("_id", format!("unexpected {other}"))),
    };
    MessageId::parse(&text).map_err(|error| field_error("_id", error.to_string()))
}

fn sent_at(date: DateTime, micros: Option<i64>) -> Timestamp {
    Timestamp::from_unix_micros(
        micros.unwrap_or_else(|| date.timestamp_millis().saturating_mul(1_000)),
    )
}

fn to_date(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.unix_micros().div_euclid(1_000))
}

/// A number as the seed's `Long` fields hold it.
fn to_long(field: &'static str, raw: u64) -> Result<i64, MappingError> {
    i64::try_from(raw).map_err(|_| field_error(field, format!("{raw} is too large to store")))
}

fn to_id(field: &'static str, raw: i64) -> Result<u64, MappingError> {
    u64::try_from(raw).map_err(|_| field_error(field, format!("{raw} is negative")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: UserId = UserId::new(1);
    const BOB: UserId = UserId::new(2);
    const DM: RoomRef = RoomRef::Direct(RoomId::new(5));
    const CHANNEL: RoomRef = RoomRef::Channel {
        community: CommunityId::new(3),
        channel: ChannelId::new(12),
    };

    fn posted(id: &str, room: RoomRef, parent: Option<ParentSnapshot>) -> Message {
        domain::NewMessage {
            id: MessageId::parse(id).expect("id"),
            room,
            author: UserProfile {
                id: ALICE,
                name: "alice".into(),
                image: Some("https://img/alice.png".into()),
            },
            body: MessageBody::parse("hello").expect("body"),
            parent,
            attachment: None,
            // Not a whole millisecond: the micros must survive the trip.
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1_645_408_089_123_456),
        }
        .stored_at(Seq::new(7))
    }

    fn round_trip(collection: MessageCollection, message: &Message) -> Message {
        decode(collection, encode(message).expect("encodes")).expect("decodes")
    }

    fn parent_snapshot(content: ParentContent) -> ParentSnapshot {
        ParentSnapshot {
            id: MessageId::parse("620f1c2a9b1e8a3d4c5b6a79").expect("id"),
            author: BOB,
            author_name: "bob".into(),
            content,
        }
    }

    #[test]
    fn a_new_dm_message_reads_back_unchanged() {
        let message = posted("m1", DM, None);
        assert_eq!(round_trip(MessageCollection::Direct, &message), message);
    }

    #[test]
    fn a_client_key_is_stored_as_client_msg_id_and_reads_back() {
        let mut parts = posted("m1", DM, None).parts().clone();
        parts.client_msg_id = Some(ClientMsgId::parse("k-1").expect("key"));
        let message = Message::from_parts(parts);

        let document = encode(&message).expect("encodes");

        assert_eq!(document.get_str("clientMsgId"), Ok("k-1"));
        assert_eq!(round_trip(MessageCollection::Direct, &message), message);
        let without = encode(&posted("m2", DM, None)).expect("encodes");
        assert!(!without.contains_key("clientMsgId"), "{without}");
    }

    #[test]
    fn a_file_message_is_stored_in_the_seeds_fields_and_reads_back_unchanged() {
        let mut parts = posted("m9", CHANNEL, None).parts().clone();
        parts.state = MessageState::Live {
            body: MessageBody::parse("https://bucket.s3/photo.png").expect("body"),
            edited_at: None,
        };
        parts.attachment = Some(Attachment {
            file_type: FileType::parse("image").expect("type"),
            thumbnail: Some(FileUrl::parse("https://bucket.s3/thumb.png").expect("url")),
        });
        let message = Message::from_parts(parts);

        let document = encode(&message).expect("encodes");

        assert_eq!(
            document.get_str("content"),
            Ok("https://bucket.s3/photo.png")
        );
        assert_eq!(
            document.get_str("thumbnail"),
            Ok("https://bucket.s3/thumb.png")
        );
        assert_eq!(document.get_str("type"), Ok("image"));
        assert_eq!(round_trip(MessageCollection::Channel, &message), message);
    }

    #[test]
    fn a_channel_reply_reads_back_with_its_parent_snapshot() {
        let text = posted(
            "m2",
            CHANNEL,
            Some(parent_snapshot(ParentContent::Text("hi".into()))),
        );
        let gone = posted("m3", CHANNEL, Some(parent_snapshot(ParentContent::Deleted)));

        assert_eq!(round_trip(MessageCollection::Channel, &text), text);
        assert_eq!(round_trip(MessageCollection::Channel, &gone), gone);
    }

    #[test]
    fn an_edited_message_and_a_tombstone_read_back_unchanged() {
        let message = posted("m1", DM, None);
        let edited = message
            .edited(
                ALICE,
                MessageBody::parse("hello again").expect("body"),
                Timestamp::from_unix_micros(1_645_408_100_000_001),
            )
            .expect("edit");
        let tombstone = message
            .deleted(ALICE, Timestamp::from_unix_micros(1_645_408_200_000_002))
            .expect("delete");

        assert_eq!(round_trip(MessageCollection::Direct, &edited), edited);
        assert_eq!(round_trip(MessageCollection::Direct, &tombstone), tombstone);
    }

    #[test]
    fn the_document_keeps_the_seeds_field_names_and_a_bson_date() {
        let reply = posted(
            "m2",
            CHANNEL,
            Some(parent_snapshot(ParentContent::Text("hi".into()))),
        );

        let document = encode(&reply).expect("encodes");

        assert_eq!(document.get_str("_id"), Ok("m2"));
        assert_eq!(document.get_i64("channelId"), Ok(12));
        assert_eq!(document.get_i64("communityId"), Ok(3));
        assert_eq!(document.get_i64("userId"), Ok(1));
        assert_eq!(document.get_str("name"), Ok("alice"));
        assert_eq!(
            document.get_str("profileImage"),
            Ok("https://img/alice.png")
        );
        assert_eq!(document.get_str("content"), Ok("hello"));
        assert_eq!(document.get_str("type"), Ok("reply"));
        assert_eq!(document.get_str("parentId"), Ok("620f1c2a9b1e8a3d4c5b6a79"));
        assert_eq!(document.get_str("parentName"), Ok("bob"));
        assert_eq!(document.get_str("parentContent"), Ok("hi"));
        assert_eq!(
            document
                .get_datetime("localDateTime")
                .map(|d| d.timestamp_millis()),
            Ok(1_645_408_089_123)
        );
        assert_eq!(document.get_i64("seq"), Ok(7));
    }

    #[test]
    fn a_tombstone_document_keeps_no_text() {
        let tombstone = posted("m1", DM, None)
            .deleted(ALICE, Timestamp::from_unix_micros(5))
            .expect("delete");

        let document = encode(&tombstone).expect("encodes");
        let update = state_update(&tombstone, Seq::new(9)).expect("encodes");

        assert!(document.get("content").is_none());
        assert_eq!(document.get_bool("deleted"), Ok(true));
        assert!(
            update
                .get_document("$unset")
                .expect("unset")
                .contains_key("content")
        );
        assert_eq!(
            update
                .get_document("$set")
                .expect("set")
                .get_i64("changeSeq"),
            Ok(9)
        );
    }

    fn seed_reply() -> Document {
        // As Spring Data wrote it (`docs/original-system.md` §5), plus our `seq`.
        let oid = ObjectId::parse_str("620f1c2a9b1e8a3d4c5b6a7a").expect("oid");
        doc! {
            "_id": oid,
            "channelId": 5_i64,
            "userId": 2_i64,
            "parentId": "620f1c2a9b1e8a3d4c5b6a79",
            "content": "me too",
            "localDateTime": DateTime::from_millis(1_645_408_089_123),
            "type": "reply",
            "name": "bob",
            "profileImage": "https://img/bob.png",
            "parentName": "bob",
            "parentContent": "hello",
            "_class": "com.example.chat.domain.DirectMessage",
            "seq": 3_i64,
        }
    }

    #[test]
    fn a_seed_shaped_document_is_readable() {
        let message = decode(MessageCollection::Direct, seed_reply()).expect("decodes");

        assert_eq!(message.id().as_str(), "620f1c2a9b1e8a3d4c5b6a7a");
        assert_eq!(message.room(), DM);
        assert_eq!(message.author().id, BOB);
        assert_eq!(message.author().name, "bob");
        assert_eq!(message.body().map(MessageBody::as_str), Some("me too"));
        assert_eq!(
            message.sent_at(),
            Timestamp::from_unix_micros(1_645_408_089_123_000)
        );
        assert_eq!(message.seq(), Seq::new(3));
        let parent = message.parent().expect("a reply");
        assert_eq!(parent.id.as_str(), "620f1c2a9b1e8a3d4c5b6a79");
        assert_eq!(parent.content, ParentContent::Text("hello".into()));
        // The seed never stored the parent's author: the replier stands in.
        assert_eq!(parent.author, BOB);
    }

    #[test]
    fn a_seed_int32_channel_id_is_read_like_a_long() {
        let mut document = seed_reply();
        document.insert("channelId", 5_i32);

        let message = decode(MessageCollection::Direct, document).expect("decodes");

        assert_eq!(message.room(), DM);
    }

    #[test]
    fn a_document_without_seq_is_refused_with_the_reason() {
        let mut document = seed_reply();
        document.remove("seq");

        let error = decode(MessageCollection::Direct, document).expect_err("refused");

        assert!(error.to_string().contains("seq"), "{error}");
    }

    #[test]
    fn malformed_documents_are_refused_without_panicking() {
        let broken = [
            doc! { "_id": "x" },
            {
                let mut d = seed_reply();
                d.insert("channelId", "five");
                d
            },
            {
                let mut d = seed_reply();
                d.insert("_id", "has spaces");
                d
            },
            {
                let mut d = seed_reply();
                d.insert("content", "   ");
                d
            },
            {
                let mut d = seed_reply();
                d.insert("userId", -1_i64);
                d
            },
            {
                let mut d = seed_reply();
                d.insert("deleted", true);
                d
            },
        ];
        for document in broken {
            let shown = document.to_string();
            assert!(
                decode(MessageCollection::Direct, document).is_err(),
                "{shown} was accepted"
            );
        }
    }

    #[test]
    fn a_channel_document_needs_its_community() {
        let mut document = encode(&posted("m1", CHANNEL, None)).expect("encodes");
        document.remove("communityId");

        assert!(decode(MessageCollection::Channel, document).is_err());
    }

    #[test]
    fn hex_ids_also_match_the_seeds_object_ids() {
        let hex = MessageId::parse("620f1c2a9b1e8a3d4c5b6a79").expect("id");
        let ours = MessageId::parse("m-1").expect("id");

        let both = id_match(&hex);
        let only_string = id_match(&ours);

        let forms = |m: &Bson| {
            m.as_document()
                .and_then(|d| d.get_array("$in").ok())
                .cloned()
                .expect("an $in")
        };
        assert_eq!(forms(&both).len(), 2);
        assert!(forms(&both).iter().any(|b| matches!(b, Bson::ObjectId(_))));
        assert_eq!(forms(&only_string), vec![Bson::String("m-1".into())]);
    }

    #[test]
    fn the_posting_fields_are_read_from_a_projection() {
        let document = doc! {
            "seq": 4_i64,
            "localDateTime": DateTime::from_millis(2),
            "sentAtMicros": 2_345_i64,
        };

        let (seq, at) = posting(document).expect("decodes");

        assert_eq!(seq, Seq::new(4));
        assert_eq!(at, Timestamp::from_unix_micros(2_345));
    }
}

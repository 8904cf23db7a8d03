//! Events as the seed's clients read them (`docs/original-system.md` §2.2), plus the keys we
//! add (`seq`, `parentId`, `editedAt`, `channelId`, `communityId`, `clientMsgId`). Every seed key
//! keeps its name and its JSON type (ids are strings); none is removed.

use bytes::Bytes;
use domain::{
    Attachment, ChatEvent, ClientMsgId, FileUrl, Message, ParentContent, PresenceStatus, RoomRef,
    Timestamp,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

/// What the seed's history shows for a deleted parent.
pub(crate) const DELETED_PARENT_TEXT: &str = "삭제된 메세지입니다.";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    user_id: String,
    name: &'a str,
    profile_image: Option<&'a str>,
    message: &'a str,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_content: Option<&'a str>,
    channel_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    community_id: Option<String>,
    seq: u64,
    /// The sender's key, so that it can match the event to its optimistic message.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_msg_id: Option<&'a str>,
}

/// The seed's `FileUploadResponse`: no `type:"message"`; `type` is `direct` or
/// `community` and `channelId` a JSON number, as the seed sent them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileEvent<'a> {
    id: &'a str,
    name: &'a str,
    profile_image: Option<&'a str>,
    message: &'a str,
    thumbnail: Option<&'a str>,
    user_id: String,
    channel_id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    file_type: &'a str,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    community_id: Option<String>,
    seq: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModifyEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    user_id: String,
    message: &'a str,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    edited_at: Option<String>,
    seq: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    seq: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypingEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    user_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VoiceOutEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    community_id: Option<String>,
    channel_id: String,
    ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PresenceEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    user_id: String,
}

/// UTC without offset, always with milliseconds: `2022-02-21T01:48:09.123`. The seed's
/// iOS client appends `Z` and requires fractional seconds; its web client parses this too.
pub(crate) fn format_time(at: Timestamp) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.unix_micros()) * 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| String::from("1970-01-01T00:00:00.000"))
}

fn room_ids(room: RoomRef) -> (String, Option<String>) {
    match room {
        RoomRef::Direct(id) => (id.to_string(), None),
        RoomRef::Channel { community, channel } => {
            (channel.to_string(), Some(community.to_string()))
        }
    }
}

fn file_shared(message: &Message, attachment: &Attachment) -> Result<Vec<u8>, serde_json::Error> {
    let (kind, channel_id, community_id) = match message.room() {
        RoomRef::Direct(id) => ("direct", id.get(), None),
        RoomRef::Channel { community, channel } => {
            ("community", channel.get(), Some(community.to_string()))
        }
    };
    serde_json::to_vec(&FileEvent {
        id: message.id().as_str(),
        name: &message.author().name,
        profile_image: message.author().image.as_deref(),
        message: message.body().map_or("", |b| b.as_str()),
        thumbnail: attachment.thumbnail.as_ref().map(FileUrl::as_str),
        user_id: message.author().id.to_string(),
        channel_id,
        kind,
        file_type: attachment.file_type.as_str(),
        time: format_time(message.sent_at()),
        community_id,
        seq: message.seq().get(),
    })
}

fn posted(message: &Message) -> Result<Vec<u8>, serde_json::Error> {
    if let Some(attachment) = message.attachment() {
        return file_shared(message, attachment);
    }
    let parent = message.parent();
    let (channel_id, community_id) = room_ids(message.room());
    serde_json::to_vec(&MessageEvent {
        kind: if parent.is_some() { "reply" } else { "message" },
        id: message.id().as_str(),
        user_id: message.author().id.to_string(),
        name: &message.author().name,
        profile_image: message.author().image.as_deref(),
        message: message.body().map_or("", |b| b.as_str()),
        time: format_time(message.sent_at()),
        parent_id: parent.map(|p| p.id.as_str()),
        parent_name: parent.map(|p| p.author_name.as_str()),
        parent_content: parent.map(|p| match &p.content {
            ParentContent::Text(text) => text.as_str(),
            ParentContent::Deleted => DELETED_PARENT_TEXT,
        }),
        channel_id,
        community_id,
        seq: message.seq().get(),
        client_msg_id: message.client_msg_id().map(ClientMsgId::as_str),
    })
}

fn encode(event: &ChatEvent) -> Result<Vec<u8>, serde_json::Error> {
    match event {
        ChatEvent::Posted(message) => posted(message),
        ChatEvent::Edited { message, seq } => serde_json::to_vec(&ModifyEvent {
            kind: "modify",
            id: message.id().as_str(),
            user_id: message.author().id.to_string(),
            message: message.body().map_or("", |b| b.as_str()),
            time: format_time(message.sent_at()),
            edited_at: message.edited_at().map(format_time),
            seq: seq.get(),
        }),
        ChatEvent::Deleted { message, seq } => serde_json::to_vec(&DeleteEvent {
            kind: "delete",
            id: message.id().as_str(),
            seq: seq.get(),
        }),
        ChatEvent::Typing(typing) => serde_json::to_vec(&TypingEvent {
            kind: "typing",
            name: &typing.user.name,
            user_id: typing.user.id.to_string(),
        }),
        ChatEvent::Presence(change) => serde_json::to_vec(&PresenceEvent {
            kind: match change.status {
                PresenceStatus::Online => "connect",
                PresenceStatus::Offline => "disconnect",
            },
            user_id: change.user.to_string(),
        }),
        // The seed sent the state server's reply as it was: a bare map, no `type`.
        ChatEvent::VoiceOccupancy(occupancy) => serde_json::to_vec(
            &occupancy
                .channels
                .iter()
                .map(|(channel, users)| {
                    (
                        channel.to_string(),
                        users.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    )
                })
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
        ChatEvent::VoiceLeft(leave) => serde_json::to_vec(&VoiceOutEvent {
            kind: "out",
            community_id: leave.community().map(|c| c.to_string()),
            channel_id: leave.location().to_string(),
            ids: leave.users().iter().map(ToString::to_string).collect(),
        }),
    }
}

/// The MESSAGE body of an event, serialised once for all its subscribers.
pub(crate) fn event_body(event: &ChatEvent) -> Bytes {
    match encode(event) {
        Ok(json) => Bytes::from(json),
        Err(error) => {
            // Serialising these plain structs cannot fail; never take the hub down if it did.
            tracing::error!(?error, "event could not be serialised");
            Bytes::from_static(b"{}")
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::{
        MessageBody, MessageId, NewMessage, ParentSnapshot, PresenceChange, RoomId, Seq, UserId,
        UserProfile,
    };
    use serde_json::{Value, json};

    use super::*;

    fn json_of(event: &ChatEvent) -> Value {
        serde_json::from_slice(&event_body(event)).expect("json")
    }

    fn message(parent: Option<ParentSnapshot>) -> Message {
        NewMessage {
            id: MessageId::parse("620f1c2a9b1e8a3d4c5b6a79").expect("id"),
            room: RoomRef::Direct(RoomId::new(5)),
            author: UserProfile {
                id: UserId::new(1),
                name: "nick".into(),
                image: Some("https://img/p.png".into()),
            },
            body: MessageBody::parse("hello").expect("body"),
            parent,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1_645_408_089_123_456),
        }
        .stored_at(Seq::new(3))
    }

    #[test]
    fn time_is_utc_without_offset_and_always_has_milliseconds() {
        assert_eq!(
            format_time(Timestamp::from_unix_micros(1_645_408_089_123_456)),
            "2022-02-21T01:48:09.123"
        );
        assert_eq!(
            format_time(Timestamp::from_unix_micros(1_645_408_080_000_000)),
            "2022-02-21T01:48:00.000"
        );
    }

    #[test]
    fn a_message_event_has_the_seeds_keys_with_string_ids_and_a_seq() {
        let value = json_of(&ChatEvent::Posted(message(None)));
        assert_eq!(
            value,
            json!({"type": "message", "id": "620f1c2a9b1e8a3d4c5b6a79", "userId": "1", "name": "nick",
                   "profileImage": "https://img/p.png", "message": "hello", "time": "2022-02-21T01:48:09.123",
                   "channelId": "5", "seq": 3})
        );
    }

    #[test]
    fn a_message_sent_with_a_client_key_carries_it_as_client_msg_id() {
        let mut parts = message(None).parts().clone();
        parts.client_msg_id = Some(ClientMsgId::parse("k-1").expect("key"));

        let value = json_of(&ChatEvent::Posted(Message::from_parts(parts)));

        assert_eq!(value["clientMsgId"], "k-1");
        assert_eq!(value["type"], "message");
    }

    #[test]
    fn a_file_event_has_the_seeds_file_upload_keys() {
        let mut parts = message(None).parts().clone();
        parts.state = domain::MessageState::Live {
            body: MessageBody::parse("/files/620f.png").expect("body"),
            edited_at: None,
        };
        parts.attachment = Some(Attachment {
            file_type: domain::FileType::parse("image").expect("type"),
            thumbnail: Some(FileUrl::parse("/files/620f-thumb.png").expect("url")),
        });
        let value = json_of(&ChatEvent::Posted(Message::from_parts(parts)));
        assert_eq!(
            value,
            json!({"id": "620f1c2a9b1e8a3d4c5b6a79", "name": "nick", "profileImage": "https://img/p.png",
                   "message": "/files/620f.png", "thumbnail": "/files/620f-thumb.png", "userId": "1",
                   "channelId": 5, "type": "direct", "fileType": "image",
                   "time": "2022-02-21T01:48:09.123", "seq": 3})
        );
    }

    #[test]
    fn a_reply_event_carries_the_parent_snapshot() {
        let value = json_of(&ChatEvent::Posted(message(Some(ParentSnapshot {
            id: MessageId::parse("p1").expect("id"),
            author: UserId::new(2),
            author_name: "alice".into(),
            content: ParentContent::Text("original".into()),
        }))));
        assert_eq!(value["type"], "reply");
        assert_eq!(value["parentName"], "alice");
        assert_eq!(value["parentContent"], "original");
        assert_eq!(value["parentId"], "p1");
    }

    #[test]
    fn modify_delete_typing_and_presence_events_keep_the_seeds_shapes() {
        let edited = message(None)
            .edited(
                UserId::new(1),
                MessageBody::parse("edited").expect("b"),
                Timestamp::from_unix_micros(1_645_408_099_000_000),
            )
            .expect("edit");
        let modify = json_of(&ChatEvent::Edited {
            message: edited,
            seq: Seq::new(4),
        });
        assert_eq!(modify["type"], "modify");
        assert_eq!(modify["message"], "edited");
        assert_eq!(modify["time"], "2022-02-21T01:48:09.123");
        assert_eq!(modify["userId"], "1");
        assert_eq!(modify["seq"], 4);

        let tombstone = message(None)
            .deleted(UserId::new(1), Timestamp::from_unix_micros(0))
            .expect("del");
        assert_eq!(
            json_of(&ChatEvent::Deleted {
                message: tombstone,
                seq: Seq::new(5)
            }),
            json!({"type": "delete", "id": "620f1c2a9b1e8a3d4c5b6a79", "seq": 5})
        );

        let presence = json_of(&ChatEvent::Presence(PresenceChange {
            user: UserId::new(1),
            status: PresenceStatus::Offline,
            audiences: vec![],
        }));
        assert_eq!(presence, json!({"type": "disconnect", "userId": "1"}));

        let out = json_of(&ChatEvent::VoiceLeft(
            domain::VoiceLeave::new(
                Some(domain::CommunityId::new(3)),
                domain::Location::Channel(domain::ChannelId::new(12)),
                vec![UserId::new(4), UserId::new(7)],
            )
            .expect("valid"),
        ));
        assert_eq!(
            out,
            json!({"type": "out", "communityId": "3", "channelId": "c-12", "ids": ["4", "7"]})
        );
    }
}

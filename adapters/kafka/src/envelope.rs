//! The record value: a versioned JSON envelope around an event,
//! `{"v":1,"kind":"posted","id":"<uuid>","origin":"<instance id>","payload":{…}}`.
//!
//! `v` comes first and is checked first, so that a future version can change everything else;
//! a consumer that does not know a version or kind skips the record instead of guessing.

use domain::ChatEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::payload::{self, PayloadError};

/// The envelope version this adapter writes and reads.
pub(crate) const VERSION: u64 = 1;

/// An event as read from the bus, with what the envelope says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    /// Unique per publish; tells a redelivered record from a new one.
    pub(crate) id: Uuid,
    /// The instance that published it.
    pub(crate) origin: String,
    /// The event.
    pub(crate) event: ChatEvent,
}

/// Why a record value is not an event this adapter can deliver.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    /// The record has no value.
    #[error("the record has no value")]
    Empty,
    /// The value is not JSON.
    #[error("the value is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// The value has no numeric `v`.
    #[error("the value has no envelope version `v`")]
    NoVersion,
    /// The envelope is of a version this adapter does not read.
    #[error("envelope version {0} is not supported (this instance reads version {VERSION})")]
    UnsupportedVersion(u64),
    /// A field of the envelope is missing or has the wrong type.
    #[error("the envelope does not have the version {VERSION} shape")]
    Shape(#[source] serde_json::Error),
    /// The event id is not a UUID.
    #[error("event id `{0}` is not a UUID")]
    EventId(String),
    /// The payload is not an event of the named kind.
    #[error(transparent)]
    Payload(#[from] PayloadError),
}

#[derive(Serialize)]
struct Outgoing<'a> {
    v: u64,
    kind: &'static str,
    id: String,
    origin: &'a str,
    payload: serde_json::Value,
}

#[derive(Deserialize)]
struct Incoming {
    kind: String,
    id: String,
    origin: String,
    payload: serde_json::Value,
}

/// The record value of `event`, published by `origin` under the event id `id`.
pub(crate) fn encode(event: &ChatEvent, id: Uuid, origin: &str) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&Outgoing {
        v: VERSION,
        kind: payload::kind(event),
        id: id.to_string(),
        origin,
        payload: payload::to_json(event)?,
    })
}

/// Reads a record value.
pub(crate) fn decode(value: Option<&[u8]>) -> Result<Received, DecodeError> {
    let value = value.ok_or(DecodeError::Empty)?;
    let json: serde_json::Value = serde_json::from_slice(value).map_err(DecodeError::NotJson)?;
    let version = json
        .get("v")
        .and_then(serde_json::Value::as_u64)
        .ok_or(DecodeError::NoVersion)?;
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let incoming: Incoming = serde_json::from_value(json).map_err(DecodeError::Shape)?;
    let id = Uuid::parse_str(&incoming.id).map_err(|_| DecodeError::EventId(incoming.id))?;
    let event = payload::from_json(&incoming.kind, incoming.payload)?;
    Ok(Received {
        id,
        origin: incoming.origin,
        event,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use domain::{
        Audience, ChannelId, CommunityId, Location, MessageBody, MessageId, NewMessage,
        ParentContent, ParentSnapshot, PresenceChange, PresenceStatus, RoomId, RoomRef, Seq,
        Timestamp, Typing, UserId, UserProfile, VoiceLeave, VoiceOccupancy,
    };

    use super::*;

    const DM: RoomRef = RoomRef::Direct(RoomId::new(5));
    const CHANNEL: RoomRef = RoomRef::Channel {
        community: CommunityId::new(3),
        channel: ChannelId::new(12),
    };

    fn alice() -> UserProfile {
        UserProfile {
            id: UserId::new(1),
            name: "alice".into(),
            image: Some("https://img.example/a.png".into()),
        }
    }

    fn posted(room: RoomRef, parent: Option<ParentSnapshot>) -> domain::Message {
        NewMessage {
            id: MessageId::parse("620f1c2a9b1e8a3d4c5b6a79").expect("id"),
            room,
            author: alice(),
            body: MessageBody::parse("hello <~inviting~> 한글").expect("body"),
            parent,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1_645_000_000_123_456),
        }
        .stored_at(Seq::new(7))
    }

    /// One event of every variant, with every optional part present somewhere.
    fn every_variant() -> Vec<ChatEvent> {
        let parent = |content| ParentSnapshot {
            id: MessageId::parse("p1").expect("id"),
            author: UserId::new(2),
            author_name: "bob".into(),
            content,
        };
        let original = posted(DM, None);
        let edited = original
            .edited(
                UserId::new(1),
                MessageBody::parse("changed").expect("body"),
                Timestamp::from_unix_micros(1_645_000_001_000_000),
            )
            .expect("edit");
        let deleted = original
            .deleted(
                UserId::new(1),
                Timestamp::from_unix_micros(1_645_000_002_000_000),
            )
            .expect("delete");
        let mut file = posted(CHANNEL, None).parts().clone();
        file.attachment = Some(domain::Attachment {
            file_type: domain::FileType::parse("image").expect("type"),
            thumbnail: Some(domain::FileUrl::parse("/files/t.png").expect("url")),
        });
        let mut keyed = posted(DM, None).parts().clone();
        keyed.client_msg_id = Some(domain::ClientMsgId::parse("k-1").expect("key"));
        vec![
            ChatEvent::Posted(original.clone()),
            ChatEvent::Posted(posted(
                CHANNEL,
                Some(parent(ParentContent::Text("first".into()))),
            )),
            ChatEvent::Posted(posted(DM, Some(parent(ParentContent::Deleted)))),
            ChatEvent::Edited {
                message: edited,
                seq: Seq::new(8),
            },
            ChatEvent::Deleted {
                message: deleted,
                seq: Seq::new(9),
            },
            ChatEvent::Typing(Typing {
                room: CHANNEL,
                user: UserProfile::anonymous(UserId::new(4)),
            }),
            ChatEvent::Presence(PresenceChange {
                user: UserId::new(1),
                status: PresenceStatus::Online,
                audiences: vec![
                    Audience::Direct(RoomId::new(5)),
                    Audience::Group(ChannelId::new(12)),
                    Audience::Community(CommunityId::new(3)),
                ],
            }),
            ChatEvent::Presence(PresenceChange {
                user: UserId::new(1),
                status: PresenceStatus::Offline,
                audiences: vec![],
            }),
            ChatEvent::VoiceLeft(
                VoiceLeave::new(
                    Some(CommunityId::new(3)),
                    Location::Channel(ChannelId::new(13)),
                    vec![UserId::new(1), UserId::new(4)],
                )
                .expect("valid"),
            ),
            ChatEvent::VoiceLeft(
                VoiceLeave::new(None, Location::Room(RoomId::new(5)), vec![UserId::new(2)])
                    .expect("valid"),
            ),
            ChatEvent::VoiceOccupancy(VoiceOccupancy {
                community: CommunityId::new(3),
                channels: BTreeMap::from([
                    (ChannelId::new(12), vec![UserId::new(1), UserId::new(4)]),
                    (ChannelId::new(13), vec![]),
                ]),
            }),
            ChatEvent::Posted(domain::Message::from_parts(file)),
            ChatEvent::Posted(domain::Message::from_parts(keyed)),
        ]
    }

    fn value(json: &serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(json).expect("json")
    }

    fn valid_envelope() -> serde_json::Value {
        let event = every_variant().remove(0);
        serde_json::from_slice(&encode(&event, Uuid::new_v4(), "a").expect("encodes"))
            .expect("json")
    }

    #[test]
    fn every_event_variant_survives_the_round_trip() {
        for event in every_variant() {
            let id = Uuid::new_v4();
            let bytes = encode(&event, id, "instance-a").expect("encodes");
            let received = decode(Some(&bytes)).expect("decodes");
            assert_eq!(
                received,
                Received {
                    id,
                    origin: "instance-a".into(),
                    event
                }
            );
        }
    }

    #[test]
    fn the_envelope_names_its_version_kind_id_and_origin() {
        let id = Uuid::new_v4();
        let bytes = encode(&every_variant().remove(0), id, "instance-a").expect("encodes");
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(json["v"], 1);
        assert_eq!(json["kind"], "posted");
        assert_eq!(json["id"], id.to_string());
        assert_eq!(json["origin"], "instance-a");
        assert_eq!(json["payload"]["room"]["type"], "direct");
        assert_eq!(json["payload"]["state"]["body"], "hello <~inviting~> 한글");
    }

    #[test]
    fn a_value_that_is_not_json_is_rejected() {
        assert!(matches!(decode(None), Err(DecodeError::Empty)));
        assert!(matches!(
            decode(Some(b"not json")),
            Err(DecodeError::NotJson(_))
        ));
        assert!(matches!(
            decode(Some(b"[1,2]")),
            Err(DecodeError::NoVersion)
        ));
    }

    #[test]
    fn an_unknown_version_is_rejected_before_anything_else_is_read() {
        let bytes = value(&serde_json::json!({"v": 2, "whatever": true}));
        assert!(matches!(
            decode(Some(&bytes)),
            Err(DecodeError::UnsupportedVersion(2))
        ));
    }

    #[test]
    fn an_unknown_kind_is_rejected() {
        let mut json = valid_envelope();
        json["kind"] = "exploded".into();
        assert!(matches!(
            decode(Some(&value(&json))),
            Err(DecodeError::Payload(PayloadError::UnknownKind(kind))) if kind == "exploded"
        ));
    }

    #[test]
    fn an_envelope_without_its_fields_is_rejected() {
        let mut json = valid_envelope();
        json.as_object_mut().expect("object").remove("origin");
        assert!(matches!(
            decode(Some(&value(&json))),
            Err(DecodeError::Shape(_))
        ));
        let mut json = valid_envelope();
        json["id"] = "not-a-uuid".into();
        assert!(matches!(
            decode(Some(&value(&json))),
            Err(DecodeError::EventId(_))
        ));
    }

    #[test]
    fn a_payload_of_the_wrong_shape_is_rejected() {
        let mut json = valid_envelope();
        json["kind"] = "typing".into();
        assert!(matches!(
            decode(Some(&value(&json))),
            Err(DecodeError::Payload(PayloadError::Shape { .. }))
        ));
    }

    #[test]
    fn a_payload_holding_values_the_domain_refuses_is_rejected() {
        let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut json = valid_envelope();
            edit(&mut json);
            matches!(
                decode(Some(&value(&json))),
                Err(DecodeError::Payload(PayloadError::Invalid { .. }))
            )
        };
        assert!(refused(&|json| json["payload"]["id"] = "a'b".into()));
        assert!(refused(
            &|json| json["payload"]["state"]["body"] = "  ".into()
        ));
        assert!(refused(
            &|json| json["payload"]["client_msg_id"] = "a b".into()
        ));

        let presence = ChatEvent::Presence(PresenceChange {
            user: UserId::new(1),
            status: PresenceStatus::Online,
            audiences: vec![],
        });
        let mut json: serde_json::Value =
            serde_json::from_slice(&encode(&presence, Uuid::new_v4(), "a").expect("encodes"))
                .expect("json");
        json["payload"]["audiences"] = serde_json::json!(["lobby/1"]);
        assert!(matches!(
            decode(Some(&value(&json))),
            Err(DecodeError::Payload(PayloadError::Invalid { .. }))
        ));

        let voice = every_variant().remove(8);
        let mut json: serde_json::Value =
            serde_json::from_slice(&encode(&voice, Uuid::new_v4(), "a").expect("encodes"))
                .expect("json");
        json["payload"]["location"] = "home".into();
        assert!(matches!(
            decode(Some(&value(&json))),
            Err(DecodeError::Payload(PayloadError::Invalid { .. }))
        ));
    }
}

//! SEND bodies as the seed's clients write them (`docs/original-system.md` §2.1), turned into
//! use-case commands. Identity fields in the body (`userId`, `name`, `profileImage`,
//! `parentName`, `parentContent`) are ignored: the author is the session's user.
//! Ids may be numbers or numeric strings; unknown fields are ignored.
//!
//! A post or reply may carry the client's key for it (the `client-msg-id` header, or
//! `clientMsgId` in the body for clients that cannot set headers; the header wins).

use application::usecases::{DeleteCommand, EditCommand, PostCommand, ReplyCommand, TypingCommand};
use domain::{ChannelId, ClientMsgId, CommunityId, Location, MessageId, RoomId, RoomRef, UserId};
use serde::Deserialize;
use serde_json::Value;

use crate::destination::{RoomKind, Verb};
use crate::refusal::Refusal;

/// A chat request ready for the use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Post(PostCommand),
    Reply(ReplyCommand),
    Edit(EditCommand),
    Delete(DeleteCommand),
    Typing(TypingCommand),
    /// The user opened a room, a channel or home.
    ChangeLocation(UserId, Location),
    /// The user opened a community page (no channel) or joined a voice channel.
    EnterVoice {
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    },
}

impl Request {
    /// Whether it changes a room's messages (and so takes its place in the connection's line).
    pub(crate) fn changes_messages(&self) -> bool {
        matches!(
            self,
            Self::Post(_) | Self::Reply(_) | Self::Edit(_) | Self::Delete(_)
        )
    }

    /// The room whose messages it changes, if it changes any.
    pub(crate) fn changed_room(&self) -> Option<RoomRef> {
        match self {
            Self::Post(cmd) => Some(cmd.room),
            Self::Reply(cmd) => Some(cmd.room),
            Self::Edit(cmd) => Some(cmd.room),
            Self::Delete(cmd) => Some(cmd.room),
            Self::Typing(_) | Self::ChangeLocation(..) | Self::EnterVoice { .. } => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatPayload {
    #[serde(rename = "type")]
    kind: Option<String>,
    content: Option<String>,
    channel_id: Option<Value>,
    community_id: Option<Value>,
    id: Option<Value>,
    parent_id: Option<Value>,
    client_msg_id: Option<Value>,
}

pub(crate) fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::new("invalid_payload", message)
}

/// An id or label as the seed's clients send it: a string or a number.
pub(crate) fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn numeric<T>(
    value: Option<&Value>,
    field: &str,
    parse: fn(&str) -> Result<T, domain::IdError>,
) -> Result<T, Refusal> {
    let text = text_of(value).ok_or_else(|| invalid(format!("`{field}` is required")))?;
    parse(&text).map_err(|e| invalid(format!("`{field}`: {e}")))
}

fn message_id(value: Option<&Value>, field: &str) -> Result<MessageId, Refusal> {
    let text = text_of(value).ok_or_else(|| invalid(format!("`{field}` is required")))?;
    MessageId::parse(&text).map_err(|e| invalid(format!("`{field}`: {e}")))
}

fn content(payload: &ChatPayload) -> Result<String, Refusal> {
    payload
        .content
        .clone()
        .ok_or_else(|| invalid("`content` is required"))
}

fn room(kind: RoomKind, payload: &ChatPayload) -> Result<RoomRef, Refusal> {
    let channel = payload.channel_id.as_ref();
    Ok(match kind {
        RoomKind::Direct => RoomRef::Direct(numeric(channel, "channelId", RoomId::parse)?),
        RoomKind::Channel => RoomRef::Channel {
            community: numeric(
                payload.community_id.as_ref(),
                "communityId",
                CommunityId::parse,
            )?,
            channel: numeric(channel, "channelId", ChannelId::parse)?,
        },
    })
}

/// The client's key for a post or reply: the `client-msg-id` header's value if the frame
/// has one, else the body's `clientMsgId` (a string, or a number taken as its text).
fn client_msg_id(
    header: Option<&str>,
    payload: &ChatPayload,
) -> Result<Option<ClientMsgId>, Refusal> {
    let text = match (header, payload.client_msg_id.as_ref()) {
        (Some(header), _) => header.to_owned(),
        (None, None | Some(Value::Null)) => return Ok(None),
        (None, Some(value)) => text_of(Some(value)).ok_or_else(|| {
            Refusal::new("invalid_client_msg_id", "`clientMsgId` must be a string")
        })?,
    };
    ClientMsgId::parse(&text)
        .map(Some)
        .map_err(|error| Refusal::new("invalid_client_msg_id", error.to_string()))
}

/// The seed switched on the payload's `type`, so `{type:"delete"}` sent to a modify
/// destination deleted; here the destination decides and a contradiction is refused.
pub(crate) fn ensure_type_matches(declared: Option<&str>, expected: &str) -> Result<(), Refusal> {
    match declared {
        Some(declared) if declared != expected => Err(Refusal::new(
            "type_mismatch",
            format!("payload type `{declared}` does not match the destination's `{expected}`"),
        )),
        _ => Ok(()),
    }
}

/// Builds the request a SEND to `/kafka/send-{kind}-{verb}` asks for, on behalf of `user`;
/// `client_msg_id` is the frame's `client-msg-id` header (used by posts and replies only).
pub(crate) fn parse_request(
    kind: RoomKind,
    verb: Verb,
    user: UserId,
    body: &[u8],
    client_msg_id_header: Option<&str>,
) -> Result<Request, Refusal> {
    let payload: ChatPayload = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("body is not the expected JSON object: {e}")))?;
    ensure_type_matches(payload.kind.as_deref(), verb.payload_type())?;
    let room = room(kind, &payload)?;
    Ok(match verb {
        Verb::Message => Request::Post(PostCommand {
            author: user,
            room,
            body: content(&payload)?,
            client_msg_id: client_msg_id(client_msg_id_header, &payload)?,
        }),
        Verb::Reply => Request::Reply(ReplyCommand {
            author: user,
            room,
            parent: message_id(payload.parent_id.as_ref(), "parentId")?,
            body: content(&payload)?,
            client_msg_id: client_msg_id(client_msg_id_header, &payload)?,
        }),
        Verb::Modify => Request::Edit(EditCommand {
            editor: user,
            room,
            message: message_id(payload.id.as_ref(), "id")?,
            body: content(&payload)?,
        }),
        Verb::Delete => Request::Delete(DeleteCommand {
            deleter: user,
            room,
            message: message_id(payload.id.as_ref(), "id")?,
        }),
        Verb::Typing => Request::Typing(TypingCommand { user, room }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: UserId = UserId::new(1);

    #[test]
    fn the_seeds_dm_send_payload_posts_as_the_session_user() {
        let body =
            br#"{"content":"hello","channelId":"5","userId":99,"name":"spoof","profileImage":"x"}"#;
        assert_eq!(
            parse_request(RoomKind::Direct, Verb::Message, ME, body, None),
            Ok(Request::Post(PostCommand {
                author: ME,
                room: RoomRef::Direct(RoomId::new(5)),
                body: "hello".into(),
                client_msg_id: None,
            }))
        );
    }

    #[test]
    fn a_channel_payload_needs_community_and_channel_ids_as_numbers_or_strings() {
        let body = br#"{"content":"hi","communityId":3,"channelId":"12"}"#;
        let Ok(Request::Post(cmd)) =
            parse_request(RoomKind::Channel, Verb::Message, ME, body, None)
        else {
            panic!("parsed");
        };
        assert_eq!(
            cmd.room,
            RoomRef::Channel {
                community: CommunityId::new(3),
                channel: ChannelId::new(12)
            }
        );

        let missing = parse_request(
            RoomKind::Channel,
            Verb::Message,
            ME,
            br#"{"content":"hi","channelId":"12"}"#,
            None,
        );
        assert_eq!(missing.map_err(|r| r.code), Err("invalid_payload"));
    }

    #[test]
    fn a_request_that_changes_messages_names_its_room_and_typing_names_none() {
        let dm = RoomRef::Direct(RoomId::new(5));
        for (verb, body, changed) in [
            (Verb::Message, r#"{"content":"hi","channelId":5}"#, Some(dm)),
            (
                Verb::Modify,
                r#"{"content":"hi","channelId":5,"id":"620f1c2a9b1e8a3d4c5b6a79"}"#,
                Some(dm),
            ),
            (
                Verb::Delete,
                r#"{"channelId":5,"id":"620f1c2a9b1e8a3d4c5b6a79"}"#,
                Some(dm),
            ),
            (Verb::Typing, r#"{"channelId":5}"#, None),
        ] {
            let request =
                parse_request(RoomKind::Direct, verb, ME, body.as_bytes(), None).expect("parsed");
            assert_eq!(request.changed_room(), changed, "{verb:?}");
            assert_eq!(request.changes_messages(), changed.is_some(), "{verb:?}");
        }
    }

    #[test]
    fn a_reply_uses_only_the_parent_id_from_the_client() {
        let body = br#"{"content":"me too","channelId":"5","parentId":"620f1c2a9b1e8a3d4c5b6a79","parentName":"fake","parentContent":"fake","type":"reply"}"#;
        let Ok(Request::Reply(cmd)) = parse_request(RoomKind::Direct, Verb::Reply, ME, body, None)
        else {
            panic!("parsed");
        };
        assert_eq!(cmd.parent.as_str(), "620f1c2a9b1e8a3d4c5b6a79");
    }

    fn key_of(request: Result<Request, Refusal>) -> Result<Option<String>, &'static str> {
        match request {
            Ok(Request::Post(cmd)) => Ok(cmd.client_msg_id.map(|k| k.as_str().to_owned())),
            Ok(Request::Reply(cmd)) => Ok(cmd.client_msg_id.map(|k| k.as_str().to_owned())),
            Ok(other) => panic!("not a post or reply: {other:?}"),
            Err(refusal) => Err(refusal.code),
        }
    }

    #[test]
    fn a_posts_client_key_comes_from_the_header_or_else_from_the_body() {
        let with_body_key = br#"{"content":"hi","channelId":"5","clientMsgId":"from-body"}"#;
        let without = br#"{"content":"hi","channelId":"5"}"#;
        let post = |body: &[u8], header| {
            key_of(parse_request(
                RoomKind::Direct,
                Verb::Message,
                ME,
                body,
                header,
            ))
        };

        assert_eq!(post(with_body_key, None), Ok(Some("from-body".into())));
        assert_eq!(
            post(with_body_key, Some("from-header")),
            Ok(Some("from-header".into()))
        );
        assert_eq!(
            post(without, Some("from-header")),
            Ok(Some("from-header".into()))
        );
        assert_eq!(post(without, None), Ok(None));
    }

    #[test]
    fn a_replys_client_key_is_read_like_a_posts() {
        let body = br#"{"content":"me too","channelId":"5","parentId":"p1","clientMsgId":42}"#;

        let key = key_of(parse_request(RoomKind::Direct, Verb::Reply, ME, body, None));

        assert_eq!(key, Ok(Some("42".into())));
    }

    #[test]
    fn a_bad_client_key_is_refused_with_its_own_code() {
        let body = br#"{"content":"hi","channelId":"5"}"#;
        let long = "k".repeat(65);
        for header in ["", "has space", long.as_str(), "é"] {
            let refused = parse_request(RoomKind::Direct, Verb::Message, ME, body, Some(header));
            assert_eq!(
                refused.map_err(|r| r.code),
                Err("invalid_client_msg_id"),
                "{header:?}"
            );
        }
        let object = br#"{"content":"hi","channelId":"5","clientMsgId":{"a":1}}"#;
        assert_eq!(
            key_of(parse_request(
                RoomKind::Direct,
                Verb::Message,
                ME,
                object,
                None
            )),
            Err("invalid_client_msg_id")
        );
    }

    #[test]
    fn a_payload_type_that_contradicts_the_destination_is_refused() {
        let body = br#"{"id":"620f","userId":1,"type":"delete","channelId":"5"}"#;
        let refused = parse_request(RoomKind::Direct, Verb::Modify, ME, body, None);
        assert_eq!(refused.map_err(|r| r.code), Err("type_mismatch"));
    }

    #[test]
    fn wrong_json_is_an_invalid_payload() {
        for body in [
            &b"not json"[..],
            b"[1,2]",
            br#"{"content":5,"channelId":"5"}"#,
            br#"{"content":"x","channelId":"abc"}"#,
        ] {
            let refused = parse_request(RoomKind::Direct, Verb::Message, ME, body, None);
            assert_eq!(
                refused.map_err(|r| r.code),
                Err("invalid_payload"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn modify_delete_and_typing_payloads_parse() {
        assert!(matches!(
            parse_request(
                RoomKind::Direct,
                Verb::Modify,
                ME,
                br#"{"id":"m1","content":"edited","channelId":"5","type":"modify"}"#,
                None
            ),
            Ok(Request::Edit(_))
        ));
        assert!(matches!(
            parse_request(
                RoomKind::Direct,
                Verb::Delete,
                ME,
                br#"{"id":"m1","type":"delete","channelId":"5"}"#,
                None
            ),
            Ok(Request::Delete(_))
        ));
        assert!(matches!(
            parse_request(
                RoomKind::Direct,
                Verb::Typing,
                ME,
                br#"{"content":"nick","channelId":"5","type":"typing"}"#,
                None
            ),
            Ok(Request::Typing(_))
        ));
    }
}

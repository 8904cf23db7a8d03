//! The lobby's SEND bodies as the seed's clients write them:
//! `{"user_id":1,"channel_id":"r-5","type":"state"}`,
//! `{"user_id":1,"community_id":"3","type":"before-enter"}`,
//! `{"user_id":1,"channel_id":"c-12","community_id":"3","type":"enter"}`.
//! The seed forwarded these to the state server as they came, so any client could
//! move anyone; here `user_id` is ignored and the session's user acts.

use domain::{CommunityId, Location, UserId};
use serde::Deserialize;
use serde_json::Value;

use crate::destination::LobbyAction;
use crate::payload::{Request, ensure_type_matches, invalid, text_of};
use crate::refusal::Refusal;

#[derive(Debug, Deserialize)]
struct LobbyPayload {
    #[serde(rename = "type")]
    kind: Option<String>,
    channel_id: Option<Value>,
    community_id: Option<Value>,
}

fn text(value: Option<&Value>, field: &str) -> Result<String, Refusal> {
    text_of(value).ok_or_else(|| invalid(format!("`{field}` is required")))
}

fn community(payload: &LobbyPayload) -> Result<CommunityId, Refusal> {
    let raw = text(payload.community_id.as_ref(), "community_id")?;
    CommunityId::parse(&raw).map_err(|e| invalid(format!("`community_id`: {e}")))
}

fn location(payload: &LobbyPayload) -> Result<Location, Refusal> {
    let raw = text(payload.channel_id.as_ref(), "channel_id")?;
    Location::parse(&raw).map_err(|e| invalid(format!("`channel_id`: {e}")))
}

/// Builds the request a SEND to a lobby destination asks for, on behalf of `user`.
pub(crate) fn parse_lobby_request(
    action: LobbyAction,
    user: UserId,
    body: &[u8],
) -> Result<Request, Refusal> {
    let payload: LobbyPayload = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("body is not the expected JSON object: {e}")))?;
    ensure_type_matches(payload.kind.as_deref(), action.payload_type())?;
    match action {
        LobbyAction::JoinChannel => Ok(Request::ChangeLocation(user, location(&payload)?)),
        LobbyAction::CommunitySignaling => Ok(Request::EnterVoice {
            user,
            community: community(&payload)?,
            channel: None,
        }),
        LobbyAction::Signaling => match location(&payload)? {
            Location::Channel(channel) => Ok(Request::EnterVoice {
                user,
                community: community(&payload)?,
                channel: Some(channel),
            }),
            other => Err(invalid(format!(
                "`channel_id` must be a voice channel `c-<id>`, got `{other}`"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, RoomId};

    use super::*;

    const ME: UserId = UserId::new(1);

    #[test]
    fn join_channel_moves_the_session_user_whatever_user_id_says() {
        let body = br#"{"user_id":99,"channel_id":"r-5","type":"state"}"#;
        assert_eq!(
            parse_lobby_request(LobbyAction::JoinChannel, ME, body),
            Ok(Request::ChangeLocation(ME, Location::Room(RoomId::new(5))))
        );
    }

    #[test]
    fn community_signaling_and_signaling_parse_the_seeds_payloads() {
        assert_eq!(
            parse_lobby_request(
                LobbyAction::CommunitySignaling,
                ME,
                br#"{"user_id":1,"community_id":"3","type":"before-enter"}"#
            ),
            Ok(Request::EnterVoice {
                user: ME,
                community: CommunityId::new(3),
                channel: None
            })
        );
        assert_eq!(
            parse_lobby_request(
                LobbyAction::Signaling,
                ME,
                br#"{"user_id":1,"channel_id":"c-12","community_id":"3","type":"enter"}"#
            ),
            Ok(Request::EnterVoice {
                user: ME,
                community: CommunityId::new(3),
                channel: Some(ChannelId::new(12))
            })
        );
    }

    #[test]
    fn a_logout_smuggled_into_join_channel_is_refused() {
        let body = br#"{"type":"logout","session_id":"someone-else"}"#;
        let refused = parse_lobby_request(LobbyAction::JoinChannel, ME, body);
        assert_eq!(refused.map_err(|r| r.code), Err("type_mismatch"));
    }

    #[test]
    fn injection_in_a_location_is_refused() {
        for bad in [
            r#"{"channel_id":"r-5', type='logout"}"#,
            r#"{"channel_id":"r-5\r\n{type='login'}"}"#,
        ] {
            let refused = parse_lobby_request(LobbyAction::JoinChannel, ME, bad.as_bytes());
            assert_eq!(refused.map_err(|r| r.code), Err("invalid_payload"), "{bad}");
        }
    }
}

//! The requests this server sends to the state server, and how one becomes a line on the wire.
//!
//! The seed wrote requests with `LoginSessionRequest.toString()`, with no escaping at all, so a
//! client-chosen `channel_id` holding `'` or `,` rewrote the message (`docs/original-system.md`
//! §7.2, §10 item 7b). Here a [`Request`] holds only typed domain values (numeric ids, a
//! [`Location`], a [`SessionId`] restricted to `[A-Za-z0-9_-]`), so every value is already safe;
//! rendering checks each value and the finished line again anyway, so a future change to those
//! types cannot silently reopen the hole.

use domain::{ChannelId, CommunityId, Location, SessionId, UserId};
use serde::Serialize;

use crate::WireFormat;

/// One request, built server-side from authenticated facts, never from client text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request<'a> {
    /// A session opened.
    Login {
        session: &'a SessionId,
        user: UserId,
    },
    /// A session closed.
    Logout { session: &'a SessionId },
    /// The user moved to a text location (`join-channel`).
    State { user: UserId, to: Location },
    /// The user opened a community's page.
    BeforeEnter {
        user: UserId,
        community: CommunityId,
    },
    /// The user joined a voice channel.
    Enter {
        user: UserId,
        community: CommunityId,
        channel: ChannelId,
    },
}

/// A value or line that would not survive the seed's unescaped format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenderError(String);

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

/// The fields of the seed's `LoginSessionRequest`, as text; `None` is the seed's Java `null`.
/// `ids` is always `null`: the `direct`/`community` requests that carried it are not sent.
#[derive(Debug, Serialize)]
struct Fields {
    #[serde(rename = "type")]
    kind: &'static str,
    session_id: Option<String>,
    user_id: Option<String>,
    channel_id: Option<String>,
    community_id: Option<String>,
    ids: Option<Vec<u64>>,
}

impl Request<'_> {
    /// The seed's `type`, also the tracing field of the request's span.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Login { .. } => "login",
            Self::Logout { .. } => "logout",
            Self::State { .. } => "state",
            Self::BeforeEnter { .. } => "before-enter",
            Self::Enter { .. } => "enter",
        }
    }

    fn fields(&self) -> Fields {
        let mut fields = Fields {
            kind: self.kind(),
            session_id: None,
            user_id: None,
            channel_id: None,
            community_id: None,
            ids: None,
        };
        match *self {
            Self::Login { session, user } => {
                fields.session_id = Some(session.to_string());
                fields.user_id = Some(user.to_string());
            }
            Self::Logout { session } => fields.session_id = Some(session.to_string()),
            Self::State { user, to } => {
                fields.user_id = Some(user.to_string());
                fields.channel_id = Some(to.to_string());
            }
            Self::BeforeEnter { user, community } => {
                fields.user_id = Some(user.to_string());
                fields.community_id = Some(community.to_string());
            }
            Self::Enter {
                user,
                community,
                channel,
            } => {
                fields.user_id = Some(user.to_string());
                // The seed's voice channel is the channel's location label, `c-12`.
                fields.channel_id = Some(Location::Channel(channel).to_string());
                fields.community_id = Some(community.to_string());
            }
        }
        fields
    }
}

/// Renders `request` as one line, without its CRLF terminator.
pub(crate) fn render(request: &Request<'_>, format: WireFormat) -> Result<String, RenderError> {
    let fields = request.fields();
    for value in [
        &fields.session_id,
        &fields.user_id,
        &fields.channel_id,
        &fields.community_id,
    ]
    .into_iter()
    .flatten()
    {
        check_value(value)?;
    }
    let line = match format {
        WireFormat::Seed => seed_line(&fields),
        WireFormat::Json => serde_json::to_string(&fields).map_err(|error| {
            RenderError(format!("could not write the request as JSON: {error}"))
        })?,
    };
    check_line(&line)?;
    Ok(line)
}

/// `LoginSessionRequest.toString()`, Java `null` strings included as the quoted text `'null'`
/// (the seed's receiver sees the string `"null"`, and relies on it).
fn seed_line(fields: &Fields) -> String {
    let text = |value: &Option<String>| value.as_deref().unwrap_or("null").to_owned();
    format!(
        "{{type='{}', session_id='{}', user_id='{}', channel_id='{}', community_id='{}', ids=null}}",
        fields.kind,
        text(&fields.session_id),
        text(&fields.user_id),
        text(&fields.channel_id),
        text(&fields.community_id),
    )
}

/// Every value we send is a number, a location label (`r-5`, `c-12`, `home`) or a session id,
/// all within `[A-Za-z0-9_-]`: nothing that could close a quote, split a field or end the line.
fn check_value(value: &str) -> Result<(), RenderError> {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if safe {
        Ok(())
    } else {
        Err(RenderError(format!(
            "refusing to send {value:?} to the state server: only [A-Za-z0-9_-] may be sent"
        )))
    }
}

/// The frame ends at the first CRLF, so a line break inside would start a second request.
fn check_line(line: &str) -> Result<(), RenderError> {
    if line.contains(['\r', '\n']) {
        Err(RenderError(
            "refusing to send a request line holding a line break".to_owned(),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;

    fn sid(text: &str) -> SessionId {
        SessionId::parse(text).expect("valid session id")
    }

    #[test]
    fn every_request_type_is_rendered_with_the_seeds_template() {
        let session = sid("a1b2c3d4");
        let cases = [
            (
                Request::Login {
                    session: &session,
                    user: UserId::new(1),
                },
                "{type='login', session_id='a1b2c3d4', user_id='1', channel_id='null', community_id='null', ids=null}",
            ),
            (
                Request::Logout { session: &session },
                "{type='logout', session_id='a1b2c3d4', user_id='null', channel_id='null', community_id='null', ids=null}",
            ),
            (
                Request::State {
                    user: UserId::new(1),
                    to: Location::Room(RoomId::new(5)),
                },
                "{type='state', session_id='null', user_id='1', channel_id='r-5', community_id='null', ids=null}",
            ),
            (
                Request::State {
                    user: UserId::new(1),
                    to: Location::Home,
                },
                "{type='state', session_id='null', user_id='1', channel_id='home', community_id='null', ids=null}",
            ),
            (
                Request::BeforeEnter {
                    user: UserId::new(1),
                    community: CommunityId::new(3),
                },
                "{type='before-enter', session_id='null', user_id='1', channel_id='null', community_id='3', ids=null}",
            ),
            (
                Request::Enter {
                    user: UserId::new(1),
                    community: CommunityId::new(3),
                    channel: ChannelId::new(12),
                },
                "{type='enter', session_id='null', user_id='1', channel_id='c-12', community_id='3', ids=null}",
            ),
        ];
        for (request, expected) in cases {
            assert_eq!(
                render(&request, WireFormat::Seed).expect("renders"),
                expected
            );
        }
    }

    #[test]
    fn the_json_format_has_the_same_fields_with_real_nulls() {
        let session = sid("s-1");
        let login = Request::Login {
            session: &session,
            user: UserId::new(1),
        };
        assert_eq!(
            render(&login, WireFormat::Json).expect("renders"),
            r#"{"type":"login","session_id":"s-1","user_id":"1","channel_id":null,"community_id":null,"ids":null}"#
        );
        let enter = Request::Enter {
            user: UserId::new(2),
            community: CommunityId::new(3),
            channel: ChannelId::new(12),
        };
        assert_eq!(
            render(&enter, WireFormat::Json).expect("renders"),
            r#"{"type":"enter","session_id":null,"user_id":"2","channel_id":"c-12","community_id":"3","ids":null}"#
        );
    }

    #[test]
    fn a_value_that_could_close_a_quote_split_a_field_or_end_the_line_is_refused() {
        for bad in [
            "", "a'b", "a,b", "a\r\nb", "a\nb", "a b", "a}b", "a=b", "a\"b", "é",
        ] {
            assert!(check_value(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["1", "r-5", "c-12", "home", "a1_B-2"] {
            assert!(check_value(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn a_rendered_line_holding_a_line_break_is_refused() {
        assert!(check_line("{type='login'}\r\n{type='logout'}").is_err());
        assert!(check_line("{type='login'}\n").is_err());
        assert!(check_line("{type='login'}").is_ok());
    }

    #[test]
    fn a_session_id_cannot_hold_a_quote_comma_or_line_break_by_construction() {
        for bad in ["a'b", "a,b", "a\r\nb", "x', user_id='7", &"x".repeat(65)] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        // The largest legal session id still renders cleanly: every value the port can hand us
        // passes the check, so rendering never has to escape or drop anything.
        let longest = sid(&format!("{}zz-_", "Az09".repeat(15)));
        assert_eq!(longest.as_str().len(), 64);
        let logout = Request::Logout { session: &longest };
        let line = render(&logout, WireFormat::Seed).expect("renders");
        assert_eq!(line.matches('\'').count(), 10, "five quoted values: {line}");
        assert_eq!(line.matches(", ").count(), 5, "six fields: {line}");
    }

    #[test]
    fn every_location_label_passes_the_value_check() {
        for location in [
            Location::Home,
            Location::Room(RoomId::new(u64::MAX)),
            Location::Channel(ChannelId::new(1)),
        ] {
            let request = Request::State {
                user: UserId::new(u64::MAX),
                to: location,
            };
            assert!(render(&request, WireFormat::Seed).is_ok());
            assert!(render(&request, WireFormat::Json).is_ok());
        }
    }
}

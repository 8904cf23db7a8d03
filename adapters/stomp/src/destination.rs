//! The seed's destinations: what clients subscribe to and send to.

use domain::{Audience, ChannelId, CommunityId, RoomId};

/// The queue where refusals that do not end the session are sent.
pub(crate) const ERROR_QUEUE: &str = "/user/queue/errors";

/// What a SUBSCRIBE destination names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listen {
    /// A room, channel or community topic.
    Audience(Audience),
    /// The session's own error queue.
    Errors,
}

/// Parses a SUBSCRIBE destination.
pub(crate) fn parse_listen(destination: &str) -> Option<Listen> {
    if destination == ERROR_QUEUE {
        return Some(Listen::Errors);
    }
    let (kind, id) = destination.strip_prefix("/topic/")?.split_once('/')?;
    let audience = match kind {
        "direct" => Audience::Direct(RoomId::parse(id).ok()?),
        "group" => Audience::Group(ChannelId::parse(id).ok()?),
        "community" => Audience::Community(CommunityId::parse(id).ok()?),
        _ => return None,
    };
    Some(Listen::Audience(audience))
}

/// The topic an audience is delivered on.
pub(crate) fn audience_destination(audience: Audience) -> String {
    format!("/topic/{audience}")
}

/// DM room or community channel, from the SEND destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoomKind {
    Direct,
    Channel,
}

/// The chat action a SEND destination names. The destination decides the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Message,
    Reply,
    Modify,
    Delete,
    Typing,
}

impl Verb {
    /// The payload `type` the seed's clients put in such a payload.
    pub(crate) fn payload_type(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Reply => "reply",
            Self::Modify => "modify",
            Self::Delete => "delete",
            Self::Typing => "typing",
        }
    }
}

/// The lobby's SEND destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LobbyAction {
    /// `/kafka/join-channel`: the user opened a room, a channel or home (`state`).
    JoinChannel,
    /// `/kafka/community-signaling`: the user opened a community page (`before-enter`).
    CommunitySignaling,
    /// `/kafka/signaling`: the user joined a voice channel (`enter`).
    Signaling,
}

impl LobbyAction {
    /// The payload `type` the seed's clients put in such a payload.
    pub(crate) fn payload_type(self) -> &'static str {
        match self {
            Self::JoinChannel => "state",
            Self::CommunitySignaling => "before-enter",
            Self::Signaling => "enter",
        }
    }
}

/// What a SEND destination names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendTarget {
    /// `/kafka/send-{direct|channel}-{verb}`.
    Chat(RoomKind, Verb),
    /// The lobby destinations, which drive the state server.
    Lobby(LobbyAction),
    /// A broker destination: clients never publish there.
    Broker,
    /// Anything else.
    Unknown,
}

/// Parses a SEND destination.
pub(crate) fn parse_send(destination: &str) -> SendTarget {
    if destination.starts_with("/topic/") || destination.starts_with("/user/") {
        return SendTarget::Broker;
    }
    let Some(action) = destination.strip_prefix("/kafka/") else {
        return SendTarget::Unknown;
    };
    match action {
        "join-channel" => return SendTarget::Lobby(LobbyAction::JoinChannel),
        "community-signaling" => return SendTarget::Lobby(LobbyAction::CommunitySignaling),
        "signaling" => return SendTarget::Lobby(LobbyAction::Signaling),
        _ => {}
    }
    let Some((kind, verb)) = action
        .strip_prefix("send-")
        .and_then(|rest| rest.split_once('-'))
    else {
        return SendTarget::Unknown;
    };
    let kind = match kind {
        "direct" => RoomKind::Direct,
        "channel" => RoomKind::Channel,
        _ => return SendTarget::Unknown,
    };
    let verb = match verb {
        "message" => Verb::Message,
        "reply" => Verb::Reply,
        "modify" => Verb::Modify,
        "delete" => Verb::Delete,
        "typing" => Verb::Typing,
        _ => return SendTarget::Unknown,
    };
    SendTarget::Chat(kind, verb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_topics_parse_to_audiences() {
        assert_eq!(
            parse_listen("/topic/direct/5"),
            Some(Listen::Audience(Audience::Direct(RoomId::new(5))))
        );
        assert_eq!(
            parse_listen("/topic/group/12"),
            Some(Listen::Audience(Audience::Group(ChannelId::new(12))))
        );
        assert_eq!(
            parse_listen("/topic/community/3"),
            Some(Listen::Audience(Audience::Community(CommunityId::new(3))))
        );
        assert_eq!(parse_listen("/user/queue/errors"), Some(Listen::Errors));
    }

    #[test]
    fn unknown_or_malformed_topics_are_refused() {
        for bad in [
            "/topic/direct/x",
            "/topic/other/1",
            "/topic/direct",
            "/queue/a",
            "/topic/direct/0",
        ] {
            assert_eq!(parse_listen(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_audience_is_delivered_on_the_seeds_topic() {
        assert_eq!(
            audience_destination(Audience::Group(ChannelId::new(12))),
            "/topic/group/12"
        );
    }

    #[test]
    fn send_destinations_decide_the_action() {
        assert_eq!(
            parse_send("/kafka/send-direct-modify"),
            SendTarget::Chat(RoomKind::Direct, Verb::Modify)
        );
        assert_eq!(
            parse_send("/kafka/send-channel-typing"),
            SendTarget::Chat(RoomKind::Channel, Verb::Typing)
        );
        assert_eq!(
            parse_send("/kafka/join-channel"),
            SendTarget::Lobby(LobbyAction::JoinChannel)
        );
        assert_eq!(
            parse_send("/kafka/signaling"),
            SendTarget::Lobby(LobbyAction::Signaling)
        );
        assert_eq!(parse_send("/topic/direct/5"), SendTarget::Broker);
        assert_eq!(
            parse_send("/kafka/send-direct-explode"),
            SendTarget::Unknown
        );
        assert_eq!(parse_send("/app/x"), SendTarget::Unknown);
    }
}

//! Where an event goes: which topic (by kind, as the seed split them) and which record key
//! (the room, so that a room's events share a partition and keep their order).

use domain::{ChatEvent, RoomRef};

/// The seed's six kinds of traffic, each with its own configurable topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TopicKind {
    /// New DM messages and replies.
    Chat,
    /// New channel messages and replies.
    Channel,
    /// DM edits, deletes and typing.
    EtcDirect,
    /// Channel edits, deletes and typing.
    EtcCommunity,
    /// New file messages, DM and channel alike (the seed's `file-topic`).
    File,
    /// Presence and voice state.
    State,
}

impl TopicKind {
    /// Every kind, in the order of the settings table.
    pub(crate) const ALL: [Self; 6] = [
        Self::Chat,
        Self::Channel,
        Self::EtcDirect,
        Self::EtcCommunity,
        Self::File,
        Self::State,
    ];

    /// The kind's field name in the settings tables, for error messages.
    pub(crate) fn setting(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Channel => "channel",
            Self::EtcDirect => "etc_direct",
            Self::EtcCommunity => "etc_community",
            Self::File => "file",
            Self::State => "state",
        }
    }

    /// The kind of topic an event travels on.
    pub(crate) fn of(event: &ChatEvent) -> Self {
        let by_room = |room: RoomRef, direct: Self, channel: Self| match room {
            RoomRef::Direct(_) => direct,
            RoomRef::Channel { .. } => channel,
        };
        match event {
            ChatEvent::Posted(message) if message.attachment().is_some() => Self::File,
            ChatEvent::Posted(message) => by_room(message.room(), Self::Chat, Self::Channel),
            ChatEvent::Edited { message, .. } | ChatEvent::Deleted { message, .. } => {
                by_room(message.room(), Self::EtcDirect, Self::EtcCommunity)
            }
            ChatEvent::Typing(typing) => by_room(typing.room, Self::EtcDirect, Self::EtcCommunity),
            ChatEvent::Presence(_) | ChatEvent::VoiceLeft(_) | ChatEvent::VoiceOccupancy(_) => {
                Self::State
            }
        }
    }
}

/// The record key of an event: the audience it is for (`direct/5`, `group/12`,
/// `community/3`), so that the events of one room land on one partition in order.
///
/// A presence change is heard by every room of its user, so no single room fits; it is keyed by
/// the user (`user/1`) instead, which keeps one user's online and offline changes in order.
pub(crate) fn record_key(event: &ChatEvent) -> String {
    match event {
        ChatEvent::Presence(change) => format!("user/{}", change.user),
        other => other
            .audiences()
            .first()
            .map_or_else(String::new, ToString::to_string),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use domain::{
        Audience, ChannelId, CommunityId, Location, MessageBody, MessageId, NewMessage,
        PresenceChange, PresenceStatus, RoomId, Seq, Timestamp, Typing, UserId, UserProfile,
        VoiceLeave, VoiceOccupancy,
    };

    use super::*;

    const DM: RoomRef = RoomRef::Direct(RoomId::new(5));
    const CHANNEL: RoomRef = RoomRef::Channel {
        community: CommunityId::new(3),
        channel: ChannelId::new(12),
    };

    fn message(room: RoomRef) -> domain::Message {
        NewMessage {
            id: MessageId::parse("m1").expect("id"),
            room,
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse("hi").expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1),
        }
        .stored_at(Seq::FIRST)
    }

    fn routed(event: &ChatEvent) -> (TopicKind, String) {
        (TopicKind::of(event), record_key(event))
    }

    #[test]
    fn new_messages_go_to_the_chat_or_channel_topic_keyed_by_their_room() {
        assert_eq!(
            routed(&ChatEvent::Posted(message(DM))),
            (TopicKind::Chat, "direct/5".into())
        );
        assert_eq!(
            routed(&ChatEvent::Posted(message(CHANNEL))),
            (TopicKind::Channel, "group/12".into())
        );
    }

    #[test]
    fn file_messages_go_to_the_file_topic_keyed_by_their_room() {
        for (room, key) in [(DM, "direct/5"), (CHANNEL, "group/12")] {
            let mut parts = message(room).parts().clone();
            parts.attachment = Some(domain::Attachment {
                file_type: domain::FileType::parse("image").expect("type"),
                thumbnail: None,
            });
            let event = ChatEvent::Posted(domain::Message::from_parts(parts));
            assert_eq!(routed(&event), (TopicKind::File, key.into()));
        }
    }

    #[test]
    fn edits_deletes_and_typing_go_to_the_etc_topics_keyed_by_their_room() {
        let edited = |room| ChatEvent::Edited {
            message: message(room),
            seq: Seq::new(2),
        };
        let deleted = |room| ChatEvent::Deleted {
            message: message(room),
            seq: Seq::new(3),
        };
        let typing = |room| {
            ChatEvent::Typing(Typing {
                room,
                user: UserProfile::anonymous(UserId::new(1)),
            })
        };
        for event in [edited(DM), deleted(DM), typing(DM)] {
            assert_eq!(routed(&event), (TopicKind::EtcDirect, "direct/5".into()));
        }
        for event in [edited(CHANNEL), deleted(CHANNEL), typing(CHANNEL)] {
            assert_eq!(routed(&event), (TopicKind::EtcCommunity, "group/12".into()));
        }
    }

    #[test]
    fn presence_and_voice_go_to_the_state_topic() {
        let presence = ChatEvent::Presence(PresenceChange {
            user: UserId::new(7),
            status: PresenceStatus::Offline,
            audiences: vec![
                Audience::Direct(RoomId::new(5)),
                Audience::Community(CommunityId::new(3)),
            ],
        });
        assert_eq!(routed(&presence), (TopicKind::State, "user/7".into()));

        let left = ChatEvent::VoiceLeft(
            VoiceLeave::new(
                Some(CommunityId::new(3)),
                Location::Channel(ChannelId::new(12)),
                vec![UserId::new(1)],
            )
            .expect("valid"),
        );
        assert_eq!(routed(&left), (TopicKind::State, "community/3".into()));

        let occupancy = ChatEvent::VoiceOccupancy(VoiceOccupancy {
            community: CommunityId::new(3),
            channels: BTreeMap::new(),
        });
        assert_eq!(routed(&occupancy), (TopicKind::State, "community/3".into()));
    }
}

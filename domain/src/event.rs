//! What happened, as every instance delivers it to its subscribers.

use crate::{Audience, Message, PresenceChange, RoomKey, Seq, Typing, VoiceLeave, VoiceOccupancy};

/// An event the event bus carries and the room broadcaster delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// A message or reply was stored; its [`Seq`] is the message's.
    Posted(Message),
    /// A message's text was changed by its author.
    Edited {
        /// The message after the edit.
        message: Message,
        /// The edit's place in the room.
        seq: Seq,
    },
    /// A message was deleted by its author.
    Deleted {
        /// The tombstone.
        message: Message,
        /// The delete's place in the room.
        seq: Seq,
    },
    /// Someone is typing (not stored, no sequence number).
    Typing(Typing),
    /// A user's first session opened or last session closed.
    Presence(PresenceChange),
    /// Users left a voice channel.
    VoiceLeft(VoiceLeave),
    /// Who is in a community's voice channels now.
    VoiceOccupancy(VoiceOccupancy),
}

impl ChatEvent {
    /// Who hears it.
    pub fn audiences(&self) -> Vec<Audience> {
        match self {
            Self::Posted(message)
            | Self::Edited { message, .. }
            | Self::Deleted { message, .. } => vec![message.room().audience()],
            Self::Typing(typing) => vec![typing.room.audience()],
            Self::Presence(change) => change.audiences.clone(),
            Self::VoiceLeft(leave) => vec![leave.audience()],
            Self::VoiceOccupancy(occupancy) => vec![Audience::Community(occupancy.community)],
        }
    }

    /// The room a stored room event is numbered in.
    pub fn room(&self) -> Option<RoomKey> {
        match self {
            Self::Posted(message)
            | Self::Edited { message, .. }
            | Self::Deleted { message, .. } => Some(message.room().key()),
            Self::Typing(_) | Self::Presence(_) | Self::VoiceLeft(_) | Self::VoiceOccupancy(_) => {
                None
            }
        }
    }

    /// The room sequence number of a stored room event.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            Self::Posted(message) => Some(message.seq()),
            Self::Edited { seq, .. } | Self::Deleted { seq, .. } => Some(*seq),
            Self::Typing(_) | Self::Presence(_) | Self::VoiceLeft(_) | Self::VoiceOccupancy(_) => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        CommunityId, MessageBody, MessageId, NewMessage, PresenceStatus, RoomId, RoomRef,
        Timestamp, UserId, UserProfile,
    };

    fn message() -> Message {
        NewMessage {
            id: MessageId::parse("m1").expect("id"),
            room: RoomRef::Direct(RoomId::new(5)),
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse("hi").expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(0),
        }
        .stored_at(Seq::new(7))
    }

    #[test]
    fn a_stored_room_event_carries_its_sequence_number() {
        assert_eq!(ChatEvent::Posted(message()).seq(), Some(Seq::new(7)));
        let edited = ChatEvent::Edited {
            message: message(),
            seq: Seq::new(9),
        };
        assert_eq!(edited.seq(), Some(Seq::new(9)));
    }

    #[test]
    fn a_room_event_is_heard_by_its_room() {
        assert_eq!(
            ChatEvent::Posted(message()).audiences(),
            vec![Audience::Direct(RoomId::new(5))]
        );
    }

    #[test]
    fn a_presence_change_is_heard_by_every_room_of_the_user_and_has_no_sequence() {
        let change = ChatEvent::Presence(PresenceChange {
            user: UserId::new(1),
            status: PresenceStatus::Online,
            audiences: vec![
                Audience::Direct(RoomId::new(5)),
                Audience::Community(CommunityId::new(3)),
            ],
        });
        assert_eq!(change.audiences().len(), 2);
        assert_eq!(change.seq(), None);
    }
}

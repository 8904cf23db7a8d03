//! Where messages live (rooms) and who hears an event (audiences).

use std::fmt;

use crate::{ChannelId, CommunityId, RoomId};

/// A place messages are posted to: a DM room or a community text channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomRef {
    /// A direct-message room.
    Direct(RoomId),
    /// A text channel of a community.
    Channel {
        /// The community the channel belongs to.
        community: CommunityId,
        /// The channel itself.
        channel: ChannelId,
    },
}

impl RoomRef {
    /// The room's identity, as history and read markers key it.
    pub const fn key(self) -> RoomKey {
        match self {
            Self::Direct(room) => RoomKey::Direct(room),
            Self::Channel { channel, .. } => RoomKey::Channel(channel),
        }
    }

    /// The audience that hears what happens in this room.
    pub const fn audience(self) -> Audience {
        match self {
            Self::Direct(room) => Audience::Direct(room),
            Self::Channel { channel, .. } => Audience::Group(channel),
        }
    }

    /// The entry of a user's room list this room belongs to: the DM room itself,
    /// or the community of a channel (lobby events go to communities, not channels).
    pub const fn lobby(self) -> Audience {
        match self {
            Self::Direct(room) => Audience::Direct(room),
            Self::Channel { community, .. } => Audience::Community(community),
        }
    }
}

impl fmt::Display for RoomRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct(room) => write!(f, "direct/{room}"),
            Self::Channel { community, channel } => {
                write!(f, "community/{community}/channel/{channel}")
            }
        }
    }
}

/// A room's identity without its community: channel ids are unique across
/// communities, so a channel alone names its room (as the seed's history API does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoomKey {
    /// A DM room.
    Direct(RoomId),
    /// A community text channel.
    Channel(ChannelId),
}

impl RoomKey {
    /// The audience that hears this room.
    pub const fn audience(self) -> Audience {
        match self {
            Self::Direct(room) => Audience::Direct(room),
            Self::Channel(channel) => Audience::Group(channel),
        }
    }
}

impl fmt::Display for RoomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct(room) => write!(f, "direct/{room}"),
            Self::Channel(channel) => write!(f, "channel/{channel}"),
        }
    }
}

/// A set of listeners: everyone subscribed to a DM room, a text channel, or a community's lobby.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    /// Subscribers of a DM room.
    Direct(RoomId),
    /// Subscribers of a community text channel.
    Group(ChannelId),
    /// Subscribers of a community: presence and voice occupancy.
    Community(CommunityId),
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct(room) => write!(f, "direct/{room}"),
            Self::Group(channel) => write!(f, "group/{channel}"),
            Self::Community(community) => write!(f, "community/{community}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_heard_by_its_group_and_belongs_to_its_community_lobby() {
        let room = RoomRef::Channel {
            community: CommunityId::new(3),
            channel: ChannelId::new(12),
        };
        assert_eq!(room.audience(), Audience::Group(ChannelId::new(12)));
        assert_eq!(room.lobby(), Audience::Community(CommunityId::new(3)));
    }

    #[test]
    fn a_dm_room_is_its_own_audience_and_lobby() {
        let room = RoomRef::Direct(RoomId::new(5));
        assert_eq!(room.audience(), Audience::Direct(RoomId::new(5)));
        assert_eq!(room.lobby(), Audience::Direct(RoomId::new(5)));
        assert_eq!(room.lobby().to_string(), "direct/5");
    }
}

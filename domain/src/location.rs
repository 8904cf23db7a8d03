//! Where a user is in the app, in the seed's notation (`r-5`, `c-12`, `home`).

use std::collections::BTreeMap;
use std::fmt;

use crate::{Audience, ChannelId, CommunityId, RoomId, UserId};

/// A place in the app: a DM room, a community channel (text or voice), or home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// `r-{roomId}`.
    Room(RoomId),
    /// `c-{channelId}`.
    Channel(ChannelId),
    /// `home`.
    Home,
}

/// Why a location label was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a location (expected r-<room>, c-<channel> or home)")]
pub struct LocationError(pub String);

impl Location {
    /// Parses the seed's label.
    pub fn parse(label: &str) -> Result<Self, LocationError> {
        let invalid = || LocationError(label.to_owned());
        if label == "home" {
            return Ok(Self::Home);
        }
        if let Some(room) = label.strip_prefix("r-") {
            return RoomId::parse(room).map(Self::Room).map_err(|_| invalid());
        }
        if let Some(channel) = label.strip_prefix("c-") {
            return ChannelId::parse(channel)
                .map(Self::Channel)
                .map_err(|_| invalid());
        }
        Err(invalid())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Room(room) => write!(f, "r-{room}"),
            Self::Channel(channel) => write!(f, "c-{channel}"),
            Self::Home => f.write_str("home"),
        }
    }
}

/// Users left a voice channel: the community (or DM room) hears who left where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceLeave {
    community: Option<CommunityId>,
    location: Location,
    users: Vec<UserId>,
    audience: Audience,
}

/// Why a voice leave cannot be announced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoiceLeaveError {
    /// A community voice channel needs its community, a DM call a room.
    #[error(
        "a community voice leave needs a c-<channel> location, a direct one an r-<room> location"
    )]
    Mismatch,
}

impl VoiceLeave {
    /// Checks that the location fits: a channel within a community, or a DM room.
    pub fn new(
        community: Option<CommunityId>,
        location: Location,
        users: Vec<UserId>,
    ) -> Result<Self, VoiceLeaveError> {
        // The seed sent DM leaves to `/topic/community/null`; they belong to the DM room.
        let audience = match (community, location) {
            (Some(community), Location::Channel(_)) => Audience::Community(community),
            (None, Location::Room(room)) => Audience::Direct(room),
            _ => return Err(VoiceLeaveError::Mismatch),
        };
        Ok(Self {
            community,
            location,
            users,
            audience,
        })
    }

    /// The community, for a community voice channel.
    pub fn community(&self) -> Option<CommunityId> {
        self.community
    }

    /// The voice channel or DM room left.
    pub fn location(&self) -> Location {
        self.location
    }

    /// Who left.
    pub fn users(&self) -> &[UserId] {
        &self.users
    }

    /// Who hears it: the community, or the DM room.
    pub fn audience(&self) -> Audience {
        self.audience
    }
}

/// A user moved: where they were and where they are now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocationChange {
    /// Where they were, if known.
    pub previous: Option<Location>,
    /// Where they are now.
    pub current: Location,
}

impl LocationChange {
    /// The rooms whose read markers move: the room left and the room entered
    /// (leaving or opening a room means its messages were seen).
    pub fn rooms_seen(&self) -> Vec<crate::RoomKey> {
        let mut rooms: Vec<crate::RoomKey> = [self.previous, Some(self.current)]
            .into_iter()
            .flatten()
            .filter_map(Location::room)
            .collect();
        rooms.dedup();
        rooms
    }
}

impl Location {
    /// The text room this location is, if it is one.
    pub fn room(self) -> Option<crate::RoomKey> {
        match self {
            Self::Room(room) => Some(crate::RoomKey::Direct(room)),
            Self::Channel(channel) => Some(crate::RoomKey::Channel(channel)),
            Self::Home => None,
        }
    }
}

/// Who is in which voice channel of a community (the seed's `{"12":["1","4"],"13":[]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceOccupancy {
    /// The community.
    pub community: CommunityId,
    /// Each voice channel that has been used, with who is in it now.
    pub channels: BTreeMap<ChannelId, Vec<UserId>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_location_labels_round_trip() {
        for label in ["r-5", "c-12", "home"] {
            assert_eq!(Location::parse(label).expect("valid").to_string(), label);
        }
    }

    #[test]
    fn moving_between_rooms_marks_both_rooms_seen_and_home_marks_nothing() {
        let moved = LocationChange {
            previous: Some(Location::Room(RoomId::new(5))),
            current: Location::Channel(ChannelId::new(12)),
        };
        assert_eq!(
            moved.rooms_seen(),
            vec![
                crate::RoomKey::Direct(RoomId::new(5)),
                crate::RoomKey::Channel(ChannelId::new(12))
            ]
        );
        let home = LocationChange {
            previous: None,
            current: Location::Home,
        };
        assert!(home.rooms_seen().is_empty());
    }

    #[test]
    fn malformed_labels_are_refused() {
        for bad in ["", "r-", "c-x", "x-1", "home ", "r-5,c-1", "r-0"] {
            assert!(Location::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_community_voice_leave_is_heard_by_the_community_and_a_dm_leave_by_the_room() {
        let community = VoiceLeave::new(
            Some(CommunityId::new(3)),
            Location::Channel(ChannelId::new(12)),
            vec![UserId::new(4)],
        )
        .expect("valid");
        assert_eq!(
            community.audience(),
            Audience::Community(CommunityId::new(3))
        );
        let dm = VoiceLeave::new(None, Location::Room(RoomId::new(5)), vec![]).expect("valid");
        assert_eq!(dm.audience(), Audience::Direct(RoomId::new(5)));
    }

    #[test]
    fn a_voice_leave_whose_location_does_not_fit_is_refused() {
        assert!(VoiceLeave::new(None, Location::Channel(ChannelId::new(1)), vec![]).is_err());
        assert!(
            VoiceLeave::new(
                Some(CommunityId::new(3)),
                Location::Room(RoomId::new(1)),
                vec![]
            )
            .is_err()
        );
        assert!(VoiceLeave::new(Some(CommunityId::new(3)), Location::Home, vec![]).is_err());
    }
}

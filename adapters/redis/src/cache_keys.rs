//! Names of the directory cache keys.
//!
//! | key | value | expires |
//! |---|---|---|
//! | `{member_cache_prefix}R{roomId}` | the DM room's members, seed JSON | `member_cache_ttl_seconds` (14 days) |
//! | `{member_cache_prefix}CH{communityId}` | the community's members, seed JSON | `member_cache_ttl_seconds` |
//! | `{key_prefix}UR{userId}` | the user's room list | `room_list_cache_ttl_seconds` (60 s) |
//! | `{key_prefix}CC{channelId}` | the community a channel belongs to | `member_cache_ttl_seconds` |
//!
//! The member keys are the seed's (`docs/original-system.md` §6.1), without a prefix by default,
//! so a seed chat server and this one can share them. Every key here is a cache: losing one only
//! costs a call to the community directory.

use domain::{Audience, ChannelId, UserId};

/// Builds the cache key names for one pair of prefixes.
#[derive(Debug, Clone)]
pub(crate) struct CacheKeys {
    member_prefix: String,
    prefix: String,
}

impl CacheKeys {
    pub(crate) fn new(member_prefix: &str, prefix: &str) -> Self {
        Self {
            member_prefix: member_prefix.to_owned(),
            prefix: prefix.to_owned(),
        }
    }

    /// The member list of a DM room or a community; a channel has none of its own.
    pub(crate) fn members(&self, group: Audience) -> Option<String> {
        match group {
            Audience::Direct(room) => Some(format!("{}R{room}", self.member_prefix)),
            Audience::Community(community) => Some(format!("{}CH{community}", self.member_prefix)),
            Audience::Group(_) => None,
        }
    }

    pub(crate) fn room_list(&self, user: UserId) -> String {
        format!("{}UR{user}", self.prefix)
    }

    pub(crate) fn channel_community(&self, channel: ChannelId) -> String {
        format!("{}CC{channel}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use domain::{CommunityId, RoomId};

    use super::*;

    #[test]
    fn member_keys_are_the_seeds_and_the_others_carry_the_prefix() {
        let keys = CacheKeys::new("", "chat:");
        assert_eq!(
            keys.members(Audience::Direct(RoomId::new(5))).as_deref(),
            Some("R5")
        );
        assert_eq!(
            keys.members(Audience::Community(CommunityId::new(3)))
                .as_deref(),
            Some("CH3")
        );
        assert_eq!(keys.members(Audience::Group(ChannelId::new(12))), None);
        assert_eq!(keys.room_list(UserId::new(7)), "chat:UR7");
        assert_eq!(keys.channel_community(ChannelId::new(12)), "chat:CC12");
    }
}

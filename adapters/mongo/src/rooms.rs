//! Where a room lives in the database: which collection holds its messages, the
//! `channelId` its documents carry, its `messageTime` key and its `roomSequence` key.

use domain::RoomKey;

/// The seed's collection of DM messages.
pub(crate) const DIRECT_MESSAGES: &str = "directMessage";
/// The seed's collection of community channel messages.
pub(crate) const CHANNEL_MESSAGES: &str = "channelMessage";
/// The seed's read bookkeeping, one document per room.
pub(crate) const MESSAGE_TIMES: &str = "messageTime";
/// Our per-room sequence counters, one document per room.
pub(crate) const ROOM_SEQUENCES: &str = "roomSequence";

/// Which of the two message collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageCollection {
    Direct,
    Channel,
}

impl MessageCollection {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Direct => DIRECT_MESSAGES,
            Self::Channel => CHANNEL_MESSAGES,
        }
    }
}

/// A room as its message documents name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomLocation {
    pub(crate) collection: MessageCollection,
    /// The seed's `channelId` (a `Long`): the DM room id or the text channel id.
    pub(crate) channel_id: i64,
}

/// Where `room`'s messages are, or why it cannot be stored (an id above `i64::MAX`,
/// which the seed's `Long` fields cannot hold).
pub(crate) fn locate(room: RoomKey) -> anyhow::Result<RoomLocation> {
    let (collection, raw) = match room {
        RoomKey::Direct(room) => (MessageCollection::Direct, room.get()),
        RoomKey::Channel(channel) => (MessageCollection::Channel, channel.get()),
    };
    let channel_id = i64::try_from(raw)
        .map_err(|_| anyhow::anyhow!("room {room} has an id too large for the store"))?;
    Ok(RoomLocation {
        collection,
        channel_id,
    })
}

/// The seed's `messageTime.channelId`: `r-5` for DM room 5, `c-12` for channel 12.
pub(crate) fn marker_key(room: RoomKey) -> String {
    match room {
        RoomKey::Direct(room) => format!("r-{room}"),
        RoomKey::Channel(channel) => format!("c-{channel}"),
    }
}

/// The `_id` of a room's counter in `roomSequence`: `direct/5`, `channel/12`.
pub(crate) fn sequence_key(room: RoomKey) -> String {
    room.to_string()
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, RoomId};

    use super::*;

    #[test]
    fn dm_rooms_and_channels_live_in_the_seeds_collections_and_keys() {
        let dm = RoomKey::Direct(RoomId::new(5));
        let channel = RoomKey::Channel(ChannelId::new(12));

        assert_eq!(
            locate(dm).expect("storable"),
            RoomLocation {
                collection: MessageCollection::Direct,
                channel_id: 5
            }
        );
        assert_eq!(
            locate(channel).expect("storable").collection.name(),
            "channelMessage"
        );
        assert_eq!(marker_key(dm), "r-5");
        assert_eq!(marker_key(channel), "c-12");
        assert_eq!(sequence_key(dm), "direct/5");
        assert_eq!(sequence_key(channel), "channel/12");
    }

    #[test]
    fn an_id_beyond_the_seeds_long_is_refused() {
        assert!(locate(RoomKey::Direct(RoomId::new(u64::MAX))).is_err());
    }
}

//! The `gap` event: a resumed subscription (`x-since-seq`) missed more room events
//! than the server replays (`stomp.resume_limit`), or events the store no longer holds
//! (the embedded store's bounds, `[store.memory]`), so the client reloads the room
//! over REST instead; live events continue after `toSeq`.

use bytes::Bytes;
use domain::{Audience, Seq};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GapEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    /// The DM room's or channel's id, as `channelId` is in room events.
    room_id: String,
    /// The first seq the client missed (its `x-since-seq` + 1).
    from_seq: u64,
    /// The room's newest seq when the replay was read: the next live event is above it.
    to_seq: u64,
}

/// The MESSAGE body of a gap in `audience` from `from` to `to`.
pub(crate) fn gap_body(audience: Audience, from: Seq, to: Seq) -> Bytes {
    let room_id = match audience {
        Audience::Direct(room) => room.to_string(),
        Audience::Group(channel) => channel.to_string(),
        Audience::Community(community) => community.to_string(),
    };
    let event = GapEvent {
        kind: "gap",
        room_id,
        from_seq: from.get(),
        to_seq: to.get(),
    };
    // Serialising this plain struct cannot fail.
    serde_json::to_vec(&event).map_or_else(|_| Bytes::from_static(b"{}"), Bytes::from)
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, RoomId};
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_gap_names_the_room_and_the_seqs_to_reload() {
        let dm: Value = serde_json::from_slice(&gap_body(
            Audience::Direct(RoomId::new(5)),
            Seq::new(11),
            Seq::new(620),
        ))
        .expect("json");
        let channel: Value = serde_json::from_slice(&gap_body(
            Audience::Group(ChannelId::new(12)),
            Seq::new(1),
            Seq::new(9),
        ))
        .expect("json");

        assert_eq!(
            dm,
            json!({"type": "gap", "roomId": "5", "fromSeq": 11, "toSeq": 620})
        );
        assert_eq!(channel["roomId"], "12");
    }
}

//! The cached value of a user's room list: `[{"direct":5},{"community":3}]`.

use domain::{Audience, ChannelId, CommunityId, RoomId};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Entry {
    Direct(u64),
    Group(u64),
    Community(u64),
}

pub(crate) fn encode(rooms: &[Audience]) -> String {
    let entries: Vec<Entry> = rooms
        .iter()
        .map(|room| match room {
            Audience::Direct(room) => Entry::Direct(room.get()),
            Audience::Group(channel) => Entry::Group(channel.get()),
            Audience::Community(community) => Entry::Community(community.get()),
        })
        .collect();
    serde_json::to_string(&entries).unwrap_or_else(|_| "[]".to_owned())
}

/// `None` when the value is not a room list (then it is refetched and overwritten).
pub(crate) fn decode(text: &str) -> Option<Vec<Audience>> {
    let entries: Vec<Entry> = serde_json::from_str(text).ok()?;
    Some(
        entries
            .into_iter()
            .map(|entry| match entry {
                Entry::Direct(room) => Audience::Direct(RoomId::new(room)),
                Entry::Group(channel) => Audience::Group(ChannelId::new(channel)),
                Entry::Community(community) => Audience::Community(CommunityId::new(community)),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_list_reads_back_as_written() {
        let rooms = vec![
            Audience::Direct(RoomId::new(5)),
            Audience::Community(CommunityId::new(3)),
            Audience::Group(ChannelId::new(12)),
        ];
        let text = encode(&rooms);
        assert_eq!(text, r#"[{"direct":5},{"community":3},{"group":12}]"#);
        assert_eq!(decode(&text), Some(rooms));
        assert_eq!(decode("[]"), Some(Vec::new()));
        assert_eq!(decode(r#"[{"direct":"x"}]"#), None);
        assert_eq!(decode("nonsense"), None);
    }
}

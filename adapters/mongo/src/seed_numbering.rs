//! Numbering the seed's messages. The documents the original server wrote carry no `seq`, so
//! keyset history (and unread counts) cannot see them. [`MongoStore::number_seed_messages`]
//! gives them, room by room, the numbers the store would have given them: in time order
//! (`localDateTime`, ties by `_id`), from one block reserved on the room's `roomSequence`
//! counter, so a server already writing the room never gets one of those numbers.
//!
//! Only documents still without `seq` are touched, each by an update that matches it only
//! while it has none: a run that stops anywhere is resumed by running it again (the unused
//! rest of the first run's block stays a hole in the room's numbers, which history and
//! unread counts tolerate), and a run over numbered data changes nothing. Run it before the
//! instances serve the seed's rooms: a message posted meanwhile is numbered before the older
//! seed messages of its room.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context as _;
use domain::{ChannelId, RoomId, RoomKey};
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};

use crate::driver::bounded;
use crate::rooms::{MessageCollection, ROOM_SEQUENCES};
use crate::sequences::RoomSequences;
use crate::store::MongoStore;

/// What a numbering run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedNumbering {
    /// Rooms in which at least one message was numbered.
    pub rooms: u64,
    /// Messages numbered.
    pub messages: u64,
}

/// The condition "not numbered yet".
fn unnumbered() -> Document {
    doc! { "seq": { "$exists": false } }
}

impl MongoStore {
    /// Numbers every message without `seq`, per room in time order, and advances each room's
    /// counter past them. Safe to re-run and to resume.
    ///
    /// # Errors
    /// A server that fails or does not answer within the operation timeout (per call);
    /// what was numbered before stays numbered.
    pub async fn number_seed_messages(&self) -> anyhow::Result<SeedNumbering> {
        let sequences = RoomSequences::new(self.database().collection(ROOM_SEQUENCES));
        let timeout = self.operation_timeout();
        let mut report = SeedNumbering::default();
        for which in [MessageCollection::Direct, MessageCollection::Channel] {
            let collection = self.database().collection::<Document>(which.name());
            for channel_id in unnumbered_rooms(&collection, timeout).await? {
                let room = room_key(which, channel_id)?;
                let numbered = number_room(&collection, &sequences, room, channel_id, timeout)
                    .await
                    .with_context(|| format!("numbering the messages of {room}"))?;
                if numbered > 0 {
                    tracing::info!(%room, numbered, "seed messages numbered");
                    report.rooms += 1;
                    report.messages += numbered;
                }
            }
        }
        Ok(report)
    }
}

/// The `channelId`s of the rooms that hold unnumbered messages.
async fn unnumbered_rooms(
    collection: &Collection<Document>,
    timeout: Duration,
) -> anyhow::Result<BTreeSet<i64>> {
    let mut cursor = bounded(timeout, "seed room scan", async {
        Ok(collection
            .find(unnumbered())
            .projection(doc! { "_id": 0, "channelId": 1 })
            .await?)
    })
    .await?;
    let mut rooms = BTreeSet::new();
    while let Some(document) = bounded(timeout, "seed room scan", async {
        Ok(cursor.try_next().await?)
    })
    .await?
    {
        rooms.insert(channel_id(&document)?);
    }
    Ok(rooms)
}

/// Numbers `room`'s unnumbered messages in time order; how many it numbered.
async fn number_room(
    collection: &Collection<Document>,
    sequences: &RoomSequences,
    room: RoomKey,
    channel_id: i64,
    timeout: Duration,
) -> anyhow::Result<u64> {
    let mut filter = unnumbered();
    filter.insert("channelId", channel_id);
    let mut cursor = bounded(timeout, "seed message scan", async {
        Ok(collection
            .find(filter)
            .sort(doc! { "localDateTime": 1, "_id": 1 })
            .projection(doc! { "_id": 1 })
            .await?)
    })
    .await?;
    let mut ids: Vec<Bson> = Vec::new();
    while let Some(mut document) = bounded(timeout, "seed message scan", async {
        Ok(cursor.try_next().await?)
    })
    .await?
    {
        ids.push(document.remove("_id").context("a message without _id")?);
    }
    let Ok(count) = u64::try_from(ids.len()) else {
        anyhow::bail!("more messages than numbers");
    };
    if count == 0 {
        return Ok(0);
    }
    let last = bounded(
        timeout,
        "counter reservation",
        sequences.reserve(room, count),
    )
    .await?;
    let first = last.get() + 1 - count;
    let mut numbered = 0;
    for (seq, id) in (first..=last.get()).zip(ids) {
        let seq = i64::try_from(seq).context("seq beyond i64")?;
        let mut only_if_unnumbered = unnumbered();
        only_if_unnumbered.insert("_id", id);
        let result = bounded(timeout, "seed message numbering", async {
            Ok(collection
                .update_one(only_if_unnumbered, doc! { "$set": { "seq": seq } })
                .await?)
        })
        .await?;
        // Zero when a concurrent run numbered it first: its number stays a hole.
        numbered += result.modified_count;
    }
    Ok(numbered)
}

fn channel_id(document: &Document) -> anyhow::Result<i64> {
    match document.get("channelId") {
        Some(Bson::Int64(id)) => Ok(*id),
        Some(Bson::Int32(id)) => Ok(i64::from(*id)),
        other => anyhow::bail!("a message whose channelId is {other:?}"),
    }
}

fn room_key(which: MessageCollection, channel_id: i64) -> anyhow::Result<RoomKey> {
    let raw = u64::try_from(channel_id)
        .ok()
        .filter(|raw| *raw > 0)
        .with_context(|| format!("a message in room {channel_id}, which is not a room id"))?;
    Ok(match which {
        MessageCollection::Direct => RoomKey::Direct(RoomId::new(raw)),
        MessageCollection::Channel => RoomKey::Channel(ChannelId::new(raw)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_is_named_by_its_collection_and_channel_id() {
        assert_eq!(
            room_key(MessageCollection::Direct, 5).expect("a room"),
            RoomKey::Direct(RoomId::new(5))
        );
        assert_eq!(
            room_key(MessageCollection::Channel, 12).expect("a room"),
            RoomKey::Channel(ChannelId::new(12))
        );
        assert!(room_key(MessageCollection::Direct, 0).is_err());
        assert!(room_key(MessageCollection::Channel, -3).is_err());
    }

    #[test]
    fn a_channel_id_is_read_whichever_integer_type_holds_it() {
        assert_eq!(channel_id(&doc! { "channelId": 7_i64 }).expect("read"), 7);
        assert_eq!(channel_id(&doc! { "channelId": 8_i32 }).expect("read"), 8);
        assert!(channel_id(&doc! { "channelId": "9" }).is_err());
    }
}

//! Per-room sequence numbers shared by every instance: one counter document per
//! room in `roomSequence` (`{_id: "direct/5", seq: N}`), advanced atomically by the
//! server, so no two events of a room ever get the same number, whichever instance
//! writes them.
//!
//! A room's counter is created by an insert of `seq: 0`, never by an upsert: when
//! two upserts race to create a document, some servers (Secantus) apply both
//! increments but return no document to the loser, whose number is then lost. An
//! insert race has a clean loser (duplicate key), and the increment that follows
//! always works on an existing document.

use anyhow::Context as _;
use domain::{RoomKey, Seq};
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use crate::driver::is_duplicate_key;
use crate::rooms::sequence_key;

/// The counters of every room.
#[derive(Debug, Clone)]
pub(crate) struct RoomSequences {
    counters: Collection<Document>,
}

impl RoomSequences {
    pub(crate) fn new(counters: Collection<Document>) -> Self {
        Self { counters }
    }

    /// The next number of `room`: 1 for its first event. One round trip, three
    /// for a room's first event.
    pub(crate) async fn next(&self, room: RoomKey) -> anyhow::Result<Seq> {
        self.reserve(room, 1).await
    }

    /// Takes the next `count` (at least 1) numbers of `room` at once and returns the last;
    /// the block is the `count` numbers ending there, which no other writer gets.
    pub(crate) async fn reserve(&self, room: RoomKey, count: u64) -> anyhow::Result<Seq> {
        let key = sequence_key(room);
        let count = i64::try_from(count.max(1)).context("block of numbers beyond i64")?;
        if let Some(seq) = self.advance(&key, count).await? {
            return Ok(seq);
        }
        self.create(&key).await?;
        self.advance(&key, count)
            .await?
            .with_context(|| format!("counter {key} vanished right after it was created"))
    }

    /// The last number `room` handed out, without taking one; `None` before its first.
    pub(crate) async fn current(&self, room: RoomKey) -> anyhow::Result<Option<Seq>> {
        let key = sequence_key(room);
        let counter = self
            .counters
            .find_one(doc! { "_id": &key })
            .await
            .with_context(|| format!("cannot read counter {key}"))?;
        match counter {
            // Just created, nothing handed out yet.
            Some(counter)
                if matches!(counter.get("seq"), Some(Bson::Int64(0) | Bson::Int32(0))) =>
            {
                Ok(None)
            }
            Some(counter) => read_counter(&counter, &key).map(Some),
            None => Ok(None),
        }
    }

    async fn advance(&self, key: &str, count: i64) -> anyhow::Result<Option<Seq>> {
        let counter = self
            .counters
            .find_one_and_update(doc! { "_id": key }, doc! { "$inc": { "seq": count } })
            .return_document(ReturnDocument::After)
            .await
            .with_context(|| format!("cannot advance counter {key}"))?;
        counter
            .map(|counter| read_counter(&counter, key))
            .transpose()
    }

    async fn create(&self, key: &str) -> anyhow::Result<()> {
        match self
            .counters
            .insert_one(doc! { "_id": key, "seq": 0_i64 })
            .await
        {
            // Another instance created it first: just as good.
            Err(error) if is_duplicate_key(&error) => Ok(()),
            other => other
                .map(|_| ())
                .with_context(|| format!("cannot create counter {key}")),
        }
    }
}

fn read_counter(counter: &Document, key: &str) -> anyhow::Result<Seq> {
    let raw = match counter.get("seq") {
        Some(Bson::Int64(raw)) => *raw,
        Some(Bson::Int32(raw)) => i64::from(*raw),
        other => anyhow::bail!("counter {key} holds {other:?} instead of a number"),
    };
    let raw = u64::try_from(raw)
        .ok()
        .filter(|raw| *raw > 0)
        .with_context(|| format!("counter {key} holds {raw}, not a sequence number"))?;
    Ok(Seq::new(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_is_read_whichever_integer_type_holds_it() {
        assert_eq!(
            read_counter(&doc! { "seq": 3_i64 }, "direct/5").expect("read"),
            Seq::new(3)
        );
        assert_eq!(
            read_counter(&doc! { "seq": 4_i32 }, "direct/5").expect("read"),
            Seq::new(4)
        );
    }

    #[test]
    fn a_counter_that_is_not_a_positive_number_is_an_error() {
        for counter in [doc! {}, doc! { "seq": "x" }, doc! { "seq": 0_i64 }] {
            assert!(read_counter(&counter, "direct/5").is_err(), "{counter}");
        }
    }
}

//! Per-room sequence numbers shared by every instance: one counter document per
//! room in `roomSequence` (`{_id: "direct/5", seq: N}`), advanced atomically by the
//! server, so no two events of a room ever get the same number, whichever instance
//! writes them.

use anyhow::Context as _;
use domain::{RoomKey, Seq};
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use crate::driver::is_duplicate_key;
use crate::rooms::sequence_key;

/// How often a lost race to create a room's counter is retried. One retry is enough
/// (the winner created it); the rest only guard against a server that misbehaves.
const CREATE_ATTEMPTS: usize = 3;

/// The counters of every room.
#[derive(Debug, Clone)]
pub(crate) struct RoomSequences {
    counters: Collection<Document>,
}

impl RoomSequences {
    pub(crate) fn new(counters: Collection<Document>) -> Self {
        Self { counters }
    }

    /// The next number of `room`: 1 for its first event.
    pub(crate) async fn next(&self, room: RoomKey) -> anyhow::Result<Seq> {
        let key = sequence_key(room);
        for _ in 0..CREATE_ATTEMPTS {
            let advanced = self
                .counters
                .find_one_and_update(doc! { "_id": &key }, doc! { "$inc": { "seq": 1_i64 } })
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            match advanced {
                Ok(Some(counter)) => return read_counter(&counter, &key),
                Ok(None) => anyhow::bail!("the upsert of counter {key} returned no document"),
                // Two instances created the room's counter at once and this one lost:
                // the counter exists now, so the next attempt increments it.
                Err(error) if is_duplicate_key(&error) => {}
                Err(error) => {
                    return Err(error).with_context(|| format!("cannot advance counter {key}"));
                }
            }
        }
        anyhow::bail!("counter {key} could not be created after {CREATE_ATTEMPTS} attempts")
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

//! [`ReadMarkers`] in the seed's `messageTime` collection: one document per room,
//! `{_id: "r-5", channelId: "r-5", read: {"7": Date}, readSeq: {"7": 42}}`. `read`
//! keeps the seed's readable shape (when the user last read the room); `readSeq` is
//! what the markers are: how far, by sequence number.
//!
//! The room key is the `_id` as well as `channelId`, so two instances marking a new
//! room at once cannot create two documents for it (the seed's data can hold such
//! duplicates under `ObjectId`s; they are not ours and are left alone).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use application::ports::outbound::{MarkerError, ReadMarkers};
use domain::{RoomKey, Seq, UserId};
use futures::TryStreamExt as _;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::{Collection, Database};

use crate::driver::{bounded, is_duplicate_key};
use crate::rooms::{MESSAGE_TIMES, marker_key};

/// How often a lost race to create a room's document is retried (once is enough).
const CREATE_ATTEMPTS: usize = 3;

/// Read markers in Mongo. Cheap to clone: clones share the client.
#[derive(Debug, Clone)]
pub struct MongoReadMarkers {
    times: Collection<Document>,
    timeout: Duration,
}

impl MongoReadMarkers {
    pub(crate) fn new(database: &Database, timeout: Duration) -> Self {
        Self {
            times: database.collection(MESSAGE_TIMES),
            timeout,
        }
    }

    async fn advance(&self, user: UserId, room: RoomKey, seq: Seq) -> anyhow::Result<()> {
        let key = marker_key(room);
        let seq = i64::try_from(seq.get()).context("seq beyond i64")?;
        // `$max` makes "never move back" the server's job: no read-then-write race
        // between instances. The date moves with every mark, as the seed's did.
        let update = doc! {
            "$setOnInsert": { "channelId": &key },
            "$max": {
                format!("readSeq.{user}"): seq,
                format!("read.{user}"): DateTime::now(),
            },
        };
        for _ in 0..CREATE_ATTEMPTS {
            match self
                .times
                .update_one(doc! { "_id": &key }, update.clone())
                .upsert(true)
                .await
            {
                Ok(_) => return Ok(()),
                // Another instance created the room's document first: now it exists,
                // the next attempt updates it.
                Err(error) if is_duplicate_key(&error) => {}
                Err(error) => return Err(error).context("marker update refused"),
            }
        }
        anyhow::bail!("marker document {key} could not be created after {CREATE_ATTEMPTS} attempts")
    }

    async fn current(&self, user: UserId, room: RoomKey) -> anyhow::Result<Option<Seq>> {
        let key = marker_key(room);
        let field = format!("readSeq.{user}");
        let Some(document) = self
            .times
            .find_one(doc! { "_id": &key })
            .projection(doc! { &field: 1 })
            .await?
        else {
            return Ok(None);
        };
        read_seq(&document, user).with_context(|| format!("marker document {key} is unreadable"))
    }

    /// The markers of `user` in every room of `rooms`, with one `find`.
    async fn current_many(
        &self,
        user: UserId,
        rooms: &[RoomKey],
    ) -> anyhow::Result<Vec<Option<Seq>>> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = rooms.iter().map(|room| marker_key(*room)).collect();
        let field = format!("readSeq.{user}");
        let documents: Vec<Document> = self
            .times
            .find(doc! { "_id": { "$in": &keys } })
            .projection(doc! { &field: 1 })
            .await?
            .try_collect()
            .await?;
        let mut found: HashMap<String, Option<Seq>> = HashMap::with_capacity(documents.len());
        for document in documents {
            // Our documents' `_id` is the room key; anything else is not ours to read.
            let Ok(key) = document.get_str("_id") else {
                continue;
            };
            let marker = read_seq(&document, user)
                .with_context(|| format!("marker document {key} is unreadable"))?;
            found.insert(key.to_owned(), marker);
        }
        Ok(keys
            .iter()
            .map(|key| found.get(key).copied().flatten())
            .collect())
    }
}

/// `readSeq.<user>` of a marker document, if the user has one.
fn read_seq(document: &Document, user: UserId) -> anyhow::Result<Option<Seq>> {
    let Some(per_user) = document.get("readSeq") else {
        return Ok(None);
    };
    let Bson::Document(per_user) = per_user else {
        anyhow::bail!("readSeq is {per_user}, not a document");
    };
    let raw = match per_user.get(user.to_string()) {
        None => return Ok(None),
        Some(Bson::Int64(raw)) => *raw,
        Some(Bson::Int32(raw)) => i64::from(*raw),
        Some(other) => anyhow::bail!("readSeq.{user} is {other}, not a number"),
    };
    let raw = u64::try_from(raw).with_context(|| format!("readSeq.{user} is {raw}"))?;
    Ok(Some(Seq::new(raw)))
}

#[async_trait::async_trait]
impl ReadMarkers for MongoReadMarkers {
    #[tracing::instrument(name = "mongo.mark_read", skip_all, fields(user = %user, room = %room, seq = %seq))]
    async fn mark_read(&self, user: UserId, room: RoomKey, seq: Seq) -> Result<(), MarkerError> {
        bounded(self.timeout, "mark_read", self.advance(user, room, seq))
            .await
            .map_err(MarkerError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.read_up_to", skip_all, fields(user = %user, room = %room))]
    async fn read_up_to(&self, user: UserId, room: RoomKey) -> Result<Option<Seq>, MarkerError> {
        bounded(self.timeout, "read_up_to", self.current(user, room))
            .await
            .map_err(MarkerError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.read_up_to_many", skip_all, fields(user = %user, rooms = rooms.len()))]
    async fn read_up_to_many(
        &self,
        user: UserId,
        rooms: &[RoomKey],
    ) -> Result<Vec<Option<Seq>>, MarkerError> {
        bounded(
            self.timeout,
            "read_up_to_many",
            self.current_many(user, rooms),
        )
        .await
        .map_err(MarkerError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: UserId = UserId::new(7);

    #[test]
    fn a_users_marker_is_read_from_read_seq() {
        let document = doc! {
            "_id": "r-5",
            "channelId": "r-5",
            "read": { "7": DateTime::from_millis(1), "8": DateTime::from_millis(2) },
            "readSeq": { "7": 42_i64, "8": 3_i32 },
        };

        assert_eq!(read_seq(&document, USER).expect("read"), Some(Seq::new(42)));
        assert_eq!(
            read_seq(&document, UserId::new(8)).expect("read"),
            Some(Seq::new(3))
        );
        assert_eq!(read_seq(&document, UserId::new(9)).expect("read"), None);
    }

    #[test]
    fn a_seed_document_without_sequence_numbers_has_no_marker() {
        let document = doc! { "channelId": "r-5", "read": { "7": DateTime::from_millis(1) } };

        assert_eq!(read_seq(&document, USER).expect("read"), None);
    }

    #[test]
    fn a_marker_of_the_wrong_type_is_an_error() {
        for document in [
            doc! { "readSeq": 5_i64 },
            doc! { "readSeq": { "7": "five" } },
            doc! { "readSeq": { "7": -1_i64 } },
        ] {
            assert!(read_seq(&document, USER).is_err(), "{document}");
        }
    }
}

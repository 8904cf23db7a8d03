//! [`MessageStore`] over the seed's `directMessage` and `channelMessage` collections,
//! with per-room sequence numbers from `roomSequence`.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use application::ports::outbound::{
    Appended, ChangedMessage, HistoryOrder, HistoryQuery, MessageStore, RoomActivity, RoomChanges,
    StoreError,
};
use domain::{ClientMsgId, Message, MessageId, NewMessage, RoomKey, Seq, UserId};
use futures::TryStreamExt as _;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, Database};

use crate::driver::{bounded, is_duplicate_key};
use crate::message_document::{
    client_key_match, decode, document_id, encode, id_match, ids_match, posting,
    posting_projection, state_update,
};
use crate::rooms::{MessageCollection, RoomLocation, locate};
use crate::sequences::RoomSequences;

/// Messages and tombstones in Mongo. Cheap to clone: clones share the client.
///
/// Writes use the client's write concern (majority, journaled), so `append` and
/// `update` return only once the change survives a crash of the server.
#[derive(Debug, Clone)]
pub struct MongoMessageStore {
    direct: Collection<Document>,
    channel: Collection<Document>,
    sequences: RoomSequences,
    timeout: Duration,
}

impl MongoMessageStore {
    pub(crate) fn new(database: &Database, sequences: RoomSequences, timeout: Duration) -> Self {
        Self {
            direct: database.collection(MessageCollection::Direct.name()),
            channel: database.collection(MessageCollection::Channel.name()),
            sequences,
            timeout,
        }
    }

    fn collection(&self, which: MessageCollection) -> &Collection<Document> {
        match which {
            MessageCollection::Direct => &self.direct,
            MessageCollection::Channel => &self.channel,
        }
    }

    async fn insert(&self, message: NewMessage) -> anyhow::Result<Appended> {
        let room = message.room;
        let location = locate(room.key())?;
        let seq = self.sequences.next(room.key()).await?;
        let stored = message.stored_at(seq);
        let document = encode(&stored)?;
        match self
            .collection(location.collection)
            .insert_one(document)
            .await
        {
            Ok(_) => Ok(Appended::New(stored)),
            Err(error) if is_duplicate_key(&error) => {
                // Either way the number just taken stays unused.
                if let Some(key) = stored.client_msg_id()
                    && let Some(original) = self
                        .keyed(location, stored.author().id, key)
                        .await?
                        .filter(|original| original.id() != stored.id())
                {
                    // A repeat that raced its original (on another instance) past the
                    // lookup: the unique key index kept the first one.
                    return Ok(Appended::Existing(original));
                }
                // A retried append whose first attempt was stored (only its answer was
                // lost): the stored message stands.
                let existing = self.lookup(id_match(stored.id())).await?;
                match existing.into_iter().next() {
                    Some((from, document)) => {
                        let existing = decode(from, document)?;
                        anyhow::ensure!(
                            existing.room() == room,
                            "message id {} is already used in {}",
                            stored.id(),
                            existing.room()
                        );
                        Ok(Appended::New(existing))
                    }
                    None => Err(error).with_context(|| {
                        format!("seq {seq} of {room} is already taken (is roomSequence behind?)")
                    }),
                }
            }
            Err(error) => Err(error).context("insert refused"),
        }
    }

    /// The message `author` stored under `key` in the room at `location`.
    async fn keyed(
        &self,
        location: RoomLocation,
        author: UserId,
        key: &ClientMsgId,
    ) -> anyhow::Result<Option<Message>> {
        let found = self
            .collection(location.collection)
            .find_one(client_key_match(location.channel_id, author, key))
            .await?;
        found
            .map(|document| {
                let shown = document_id(&document);
                decode(location.collection, document).with_context(|| {
                    format!(
                        "message document {shown} in {} is unreadable",
                        location.collection.name()
                    )
                })
            })
            .transpose()
    }

    /// The documents whose `_id` matches `id_condition`, in both collections, in one
    /// round trip, each with the collection it came from.
    async fn lookup(
        &self,
        id_condition: Bson,
    ) -> anyhow::Result<Vec<(MessageCollection, Document)>> {
        let matching = doc! { "$match": { "_id": id_condition } };
        let tagged = |which: MessageCollection| {
            doc! { "$project": { "_id": 0, "from": { "$literal": which.name() }, "message": "$$ROOT" } }
        };
        let pipeline = [
            matching.clone(),
            tagged(MessageCollection::Direct),
            doc! { "$unionWith": {
                "coll": MessageCollection::Channel.name(),
                "pipeline": [matching, tagged(MessageCollection::Channel)],
            } },
        ];
        let rows: Vec<Document> = self.direct.aggregate(pipeline).await?.try_collect().await?;
        rows.into_iter()
            .map(|mut row| {
                let from = match row.get_str("from") {
                    Ok(name) if name == MessageCollection::Channel.name() => {
                        MessageCollection::Channel
                    }
                    Ok(_) => MessageCollection::Direct,
                    Err(error) => anyhow::bail!("lookup row without its collection: {error}"),
                };
                let message = row
                    .remove("message")
                    .and_then(|message| match message {
                        Bson::Document(message) => Some(message),
                        _ => None,
                    })
                    .context("lookup row without its message")?;
                Ok((from, message))
            })
            .collect()
    }

    async fn find_one(&self, id: &MessageId) -> anyhow::Result<Option<Message>> {
        let found = self.lookup(id_match(id)).await?;
        let Some((from, document)) = found.into_iter().next() else {
            return Ok(None);
        };
        let shown = document_id(&document);
        decode(from, document)
            .map(Some)
            .with_context(|| format!("message document {shown} in {} is unreadable", from.name()))
    }

    async fn find_all(&self, ids: &[MessageId]) -> anyhow::Result<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: HashMap<MessageId, Message> = self
            .lookup(ids_match(ids))
            .await?
            .into_iter()
            .filter_map(|(from, document)| readable(from, document))
            .map(|message| (message.id().clone(), message))
            .collect();
        // In the order asked, as the memory store does (duplicates included).
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }

    async fn change(&self, message: &Message) -> anyhow::Result<Seq> {
        let room = message.room().key();
        let location = locate(room)?;
        let change = self.sequences.next(room).await?;
        let change_number = i64::try_from(change.get()).context("seq beyond i64")?;
        let this_message = doc! { "_id": id_match(message.id()), "channelId": location.channel_id };
        let mut filter = this_message.clone();
        // Two changes of one message racing between instances: the one with the higher
        // number is the one clients keep, so it must also be the one the store keeps.
        filter.insert(
            "$or",
            vec![
                doc! { "changeSeq": { "$lt": change_number } },
                doc! { "changeSeq": { "$exists": false } },
            ],
        );
        let collection = self.collection(location.collection);
        let result = collection
            .update_one(filter, state_update(message, change)?)
            .await
            .context("update refused")?;
        if result.matched_count == 0 {
            let stored = collection.count_documents(this_message).limit(1).await?;
            anyhow::ensure!(
                stored > 0,
                "message {} is not stored in {room}",
                message.id()
            );
            // Otherwise a later change already landed and stays.
        }
        Ok(change)
    }

    async fn page(&self, room: RoomKey, query: HistoryQuery) -> anyhow::Result<Vec<Message>> {
        let location = locate(room)?;
        if query.limit == 0 {
            // MongoDB reads a limit of 0 as "no limit".
            return Ok(Vec::new());
        }
        let filter = doc! {
            "channelId": location.channel_id,
            "seq": seq_range(query.after, query.before),
        };
        let direction = match query.order {
            HistoryOrder::NewestFirst => -1,
            HistoryOrder::OldestFirst => 1,
        };
        let documents: Vec<Document> = self
            .collection(location.collection)
            .find(filter)
            .sort(doc! { "seq": direction })
            .skip(u64::try_from(query.skip).unwrap_or(u64::MAX))
            .limit(i64::try_from(query.limit).unwrap_or(i64::MAX))
            .await?
            .try_collect()
            .await?;
        Ok(documents
            .into_iter()
            .filter_map(|document| readable(location.collection, document))
            .collect())
    }

    /// Two reads on the room's indexes, each capped at one more than `limit`: messages
    /// posted after `after` (`room_history`), and older ones changed after it
    /// (`room_changes`); with the room's counter, read alongside.
    async fn changes_since(
        &self,
        room: RoomKey,
        after: Seq,
        limit: usize,
    ) -> anyhow::Result<RoomChanges> {
        let location = locate(room)?;
        let collection = self.collection(location.collection);
        let after_number = i64::try_from(after.get()).unwrap_or(i64::MAX);
        let cap = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let posted = async {
            collection
                .find(
                    doc! { "channelId": location.channel_id, "seq": seq_range(Some(after), None) },
                )
                .sort(doc! { "seq": 1 })
                .limit(cap)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        };
        let changed = async {
            collection
                .find(doc! {
                    "channelId": location.channel_id,
                    "changeSeq": { "$gt": after_number },
                    "seq": { "$gt": 0, "$lte": after_number },
                })
                .sort(doc! { "changeSeq": 1 })
                .limit(cap)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        };
        let (posted, changed, last_seq) = tokio::try_join!(
            async {
                posted
                    .await
                    .context("cannot read the messages posted since")
            },
            async {
                changed
                    .await
                    .context("cannot read the messages changed since")
            },
            self.sequences.current(room),
        )?;
        if posted.len().saturating_add(changed.len()) > limit {
            return Ok(RoomChanges {
                changed: None,
                last_seq,
            });
        }
        let changed = posted
            .into_iter()
            .chain(changed)
            .filter_map(|document| {
                let last_change = integer(&document, "changeSeq")
                    .and_then(|raw| u64::try_from(raw).ok())
                    .map(Seq::new);
                readable(location.collection, document).map(|message| ChangedMessage {
                    message,
                    last_change,
                })
            })
            .collect();
        Ok(RoomChanges {
            changed: Some(changed),
            last_seq,
        })
    }

    async fn room_activity(
        &self,
        room: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> anyhow::Result<RoomActivity> {
        let location = locate(room)?;
        let collection = self.collection(location.collection);
        let newest = async {
            collection
                .find_one(doc! { "channelId": location.channel_id, "seq": seq_range(None, None) })
                .sort(doc! { "seq": -1 })
                .projection(posting_projection())
                .await
        };
        // An id beyond i64 cannot have written anything here: -1 matches no author.
        let reader = i64::try_from(reader.get()).unwrap_or(-1);
        let unread = async {
            collection
                .count_documents(doc! {
                    "channelId": location.channel_id,
                    "seq": seq_range(read_up_to, None),
                    "deleted": { "$ne": true },
                    "userId": { "$ne": reader },
                })
                .await
        };
        let (newest, unread) = tokio::try_join!(newest, unread)?;
        let newest = newest
            .map(posting)
            .transpose()
            .context("the newest message document is unreadable")?;
        Ok(RoomActivity {
            unread,
            last_message_at: newest.map(|(_, at)| at),
            last_seq: newest.map(|(seq, _)| seq),
        })
    }
}

impl MongoMessageStore {
    /// Every room's activity for `reader` with one aggregation, a constant number of round
    /// trips (one) whatever the number of rooms. Per collection, two parts: the unread
    /// messages of all its rooms (one `$match` of each room's `seq` range after its marker,
    /// grouped by room) and each room's newest message (sorted by room and `seq` on the
    /// `room_history` index, the first of each room's group). The parts are joined with
    /// `$unionWith` and told apart by a `part` tag.
    async fn rooms_activity(
        &self,
        reader: UserId,
        rooms: &[(RoomKey, Option<Seq>)],
    ) -> anyhow::Result<Vec<RoomActivity>> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        // An id beyond i64 cannot have written anything here: -1 matches no author.
        let reader = i64::try_from(reader.get()).unwrap_or(-1);
        let located = rooms
            .iter()
            .map(|(room, marker)| Ok((locate(*room)?, *marker)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pipeline = activity_pipeline(reader, &located);
        let rows: Vec<Document> = self.direct.aggregate(pipeline).await?.try_collect().await?;
        let found = activity_rows(rows)?;
        Ok(located
            .iter()
            .map(|(location, _)| {
                found
                    .get(&(location.collection.name(), location.channel_id))
                    .copied()
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// The aggregation behind [`MongoMessageStore::rooms_activity`], starting on `directMessage`.
fn activity_pipeline(reader: i64, located: &[(RoomLocation, Option<Seq>)]) -> Vec<Document> {
    let parts = |which: MessageCollection| {
        let here: Vec<(i64, Option<Seq>)> = located
            .iter()
            .filter(|(location, _)| location.collection == which)
            .map(|(location, marker)| (location.channel_id, *marker))
            .collect();
        let ids: Vec<i64> = here.iter().map(|(id, _)| *id).collect();
        let unread_ranges: Vec<Document> = here
            .iter()
            .map(|(id, marker)| {
                doc! {
                    "channelId": id,
                    "seq": seq_range(*marker, None),
                    "deleted": { "$ne": true },
                    "userId": { "$ne": reader },
                }
            })
            .collect();
        let unread_match = if unread_ranges.is_empty() {
            doc! { "channelId": { "$in": [] } }
        } else {
            doc! { "$or": unread_ranges }
        };
        let tag = |part: &str| {
            doc! { "part": { "$literal": part }, "from": { "$literal": which.name() } }
        };
        let mut unread_fields = tag("unread");
        unread_fields.insert("_id", 0);
        unread_fields.insert("channelId", "$_id");
        unread_fields.insert("unread", 1);
        let unread = vec![
            doc! { "$match": unread_match },
            doc! { "$group": { "_id": "$channelId", "unread": { "$sum": 1 } } },
            doc! { "$project": unread_fields },
        ];
        let mut newest_fields = tag("newest");
        newest_fields.insert("_id", 0);
        newest_fields.insert("channelId", "$_id");
        for field in ["seq", "localDateTime", "sentAtMicros"] {
            newest_fields.insert(field, 1);
        }
        let newest = vec![
            doc! { "$match": { "channelId": { "$in": ids }, "seq": seq_range(None, None) } },
            doc! { "$sort": { "channelId": 1, "seq": -1 } },
            doc! { "$group": {
                "_id": "$channelId",
                "seq": { "$first": "$seq" },
                "localDateTime": { "$first": "$localDateTime" },
                "sentAtMicros": { "$first": "$sentAtMicros" },
            } },
            doc! { "$project": newest_fields },
        ];
        (unread, newest)
    };
    let (direct_unread, direct_newest) = parts(MessageCollection::Direct);
    let (channel_unread, channel_newest) = parts(MessageCollection::Channel);
    let union = |which: MessageCollection, pipeline: Vec<Document>| {
        doc! { "$unionWith": { "coll": which.name(), "pipeline": pipeline } }
    };
    let mut pipeline = direct_unread;
    pipeline.push(union(MessageCollection::Direct, direct_newest));
    pipeline.push(union(MessageCollection::Channel, channel_unread));
    pipeline.push(union(MessageCollection::Channel, channel_newest));
    pipeline
}

/// The activity rows of that aggregation, by collection and room.
fn activity_rows(
    rows: Vec<Document>,
) -> anyhow::Result<HashMap<(&'static str, i64), RoomActivity>> {
    let mut found: HashMap<(&'static str, i64), RoomActivity> = HashMap::new();
    for row in rows {
        let from = match row.get_str("from") {
            Ok(name) if name == MessageCollection::Channel.name() => {
                MessageCollection::Channel.name()
            }
            Ok(_) => MessageCollection::Direct.name(),
            Err(error) => anyhow::bail!("activity row without its collection: {error}"),
        };
        let channel_id = integer(&row, "channelId").context("activity row without its room")?;
        let activity = found.entry((from, channel_id)).or_default();
        match row.get_str("part") {
            Ok("unread") => {
                let unread = integer(&row, "unread").context("unread row without its count")?;
                activity.unread = u64::try_from(unread).unwrap_or(0);
            }
            Ok("newest") => {
                let (seq, at) =
                    posting(row).context("the newest message document is unreadable")?;
                activity.last_seq = Some(seq);
                activity.last_message_at = Some(at);
            }
            other => anyhow::bail!("activity row of an unknown part: {other:?}"),
        }
    }
    Ok(found)
}

/// An integer field, whichever width the server chose.
fn integer(row: &Document, field: &str) -> Option<i64> {
    match row.get(field)? {
        Bson::Int64(value) => Some(*value),
        Bson::Int32(value) => Some(i64::from(*value)),
        _ => None,
    }
}

/// The `seq` condition "strictly after `after`, strictly before `before`". It always
/// has a lower bound, so documents without `seq` (the seed's, not yet numbered) never
/// match and the room's `seq` index serves the query.
fn seq_range(after: Option<Seq>, before: Option<Seq>) -> Document {
    let bound = |seq: Seq| i64::try_from(seq.get()).unwrap_or(i64::MAX);
    let mut range = doc! { "$gt": after.map_or(0, bound) };
    if let Some(before) = before {
        range.insert("$lt", bound(before));
    }
    range
}

/// The message in `document`, or `None` after logging why it cannot be read: one
/// broken document must not hide the rest of a page.
fn readable(from: MessageCollection, document: Document) -> Option<Message> {
    let shown = document_id(&document);
    decode(from, document)
        .inspect_err(|error| {
            tracing::error!(
                id = %shown,
                collection = from.name(),
                error = %error,
                "skipping a message document that cannot be read"
            );
        })
        .ok()
}

#[async_trait::async_trait]
impl MessageStore for MongoMessageStore {
    #[tracing::instrument(name = "mongo.append", skip_all, fields(room = %message.room, id = %message.id))]
    async fn append(&self, message: NewMessage) -> Result<Appended, StoreError> {
        bounded(self.timeout, "append", self.insert(message))
            .await
            .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.find_by_client_msg_id", skip_all, fields(room = %room, author = %author))]
    async fn find_by_client_msg_id(
        &self,
        room: RoomKey,
        author: UserId,
        key: &ClientMsgId,
    ) -> Result<Option<Message>, StoreError> {
        let find = async { self.keyed(locate(room)?, author, key).await };
        bounded(self.timeout, "find_by_client_msg_id", find)
            .await
            .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.find", skip_all, fields(id = %id))]
    async fn find(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        bounded(self.timeout, "find", self.find_one(id))
            .await
            .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.find_many", skip_all, fields(count = ids.len()))]
    async fn find_many(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
        bounded(self.timeout, "find_many", self.find_all(ids))
            .await
            .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.update", skip_all, fields(room = %message.room(), id = %message.id()))]
    async fn update(&self, message: &Message) -> Result<Seq, StoreError> {
        bounded(self.timeout, "update", self.change(message))
            .await
            .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.history", skip_all, fields(room = %room))]
    async fn history(
        &self,
        room: RoomKey,
        query: HistoryQuery,
    ) -> Result<Vec<Message>, StoreError> {
        bounded(self.timeout, "history", self.page(room, query))
            .await
            .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.events_since", skip_all, fields(room = %room, after = %after))]
    async fn events_since(
        &self,
        room: RoomKey,
        after: Seq,
        limit: usize,
    ) -> Result<RoomChanges, StoreError> {
        bounded(
            self.timeout,
            "events_since",
            self.changes_since(room, after, limit),
        )
        .await
        .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.activity", skip_all, fields(room = %room))]
    async fn activity(
        &self,
        room: RoomKey,
        reader: UserId,
        read_up_to: Option<Seq>,
    ) -> Result<RoomActivity, StoreError> {
        bounded(
            self.timeout,
            "activity",
            self.room_activity(room, reader, read_up_to),
        )
        .await
        .map_err(StoreError::Unavailable)
    }

    #[tracing::instrument(name = "mongo.activities", skip_all, fields(rooms = rooms.len()))]
    async fn activities(
        &self,
        reader: UserId,
        rooms: &[(RoomKey, Option<Seq>)],
    ) -> Result<Vec<RoomActivity>, StoreError> {
        bounded(
            self.timeout,
            "activities",
            self.rooms_activity(reader, rooms),
        )
        .await
        .map_err(StoreError::Unavailable)
    }
}

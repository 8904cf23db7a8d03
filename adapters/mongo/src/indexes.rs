//! The indexes created at start-up. Creating an index that exists with the same
//! definition does nothing, so every instance creates them on every start.

use mongodb::bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::rooms::{CHANNEL_MESSAGES, DIRECT_MESSAGES};

/// Serves history pages (a room's messages by `seq`, either way), a room's newest
/// message and its unread count (the `seq` range after a marker).
const ROOM_HISTORY: &str = "room_history";
/// Enforces that no two messages of a room share a posting `seq`. Partial, so
/// the seed's documents (no `seq` yet) do not collide with each other; a separate
/// index from `room_history` because some servers (Secantus) never plan a query
/// on a partial index.
const ROOM_SEQ_UNIQUE: &str = "room_seq_unique";

/// Enforces that an author stores at most one message per client key in a room, whichever
/// instance the sends reach. Partial: only messages sent with a key have one.
const ROOM_CLIENT_KEY_UNIQUE: &str = "room_client_msg_id_unique";
/// Serves the lookup of a repeated send by its key, for servers that never plan a query
/// on a partial index (Secantus cannot prove `$exists` implied, and scanned the room: 150
/// ms a lookup at 4,000 messages). The same fields in another order than the unique
/// index's: MongoDB refuses two indexes on one pattern that differ only in their options.
const ROOM_CLIENT_KEY: &str = "room_client_msg_id";
/// Serves the replay of a room's edits and deletes since a seq (`changeSeq`, the
/// seq of a message's last change).
const ROOM_CHANGES: &str = "room_changes";

/// Message lookup by id needs no index of ours: the id is the `_id`. `messageTime`
/// and `roomSequence` are read by `_id` only.
pub(crate) async fn create(database: &Database) -> anyhow::Result<()> {
    for collection in [DIRECT_MESSAGES, CHANNEL_MESSAGES] {
        database
            .collection::<mongodb::bson::Document>(collection)
            .create_indexes([
                IndexModel::builder()
                    .keys(doc! { "channelId": 1, "seq": -1 })
                    .options(
                        IndexOptions::builder()
                            .name(ROOM_HISTORY.to_owned())
                            .build(),
                    )
                    .build(),
                IndexModel::builder()
                    .keys(doc! { "channelId": 1, "changeSeq": 1 })
                    .options(
                        IndexOptions::builder()
                            .name(ROOM_CHANGES.to_owned())
                            .build(),
                    )
                    .build(),
                IndexModel::builder()
                    .keys(doc! { "channelId": 1, "seq": 1 })
                    .options(
                        IndexOptions::builder()
                            .name(ROOM_SEQ_UNIQUE.to_owned())
                            .unique(true)
                            .partial_filter_expression(doc! { "seq": { "$exists": true } })
                            .build(),
                    )
                    .build(),
                IndexModel::builder()
                    .keys(doc! { "channelId": 1, "clientMsgId": 1, "userId": 1 })
                    .options(
                        IndexOptions::builder()
                            .name(ROOM_CLIENT_KEY.to_owned())
                            .build(),
                    )
                    .build(),
                IndexModel::builder()
                    .keys(doc! { "channelId": 1, "userId": 1, "clientMsgId": 1 })
                    .options(
                        IndexOptions::builder()
                            .name(ROOM_CLIENT_KEY_UNIQUE.to_owned())
                            .unique(true)
                            .partial_filter_expression(doc! { "clientMsgId": { "$exists": true } })
                            .build(),
                    )
                    .build(),
            ])
            .await
            .map_err(|error| {
                anyhow::Error::new(error)
                    .context(format!("cannot create the indexes of {collection}"))
            })?;
    }
    Ok(())
}

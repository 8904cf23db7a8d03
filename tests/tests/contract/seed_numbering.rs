//! `chat-server migrate` against the shared MongoDB: the seed's messages (no `seq`) are
//! numbered per room in time order, ties by id, after what the room's counter already gave
//! out; history then pages over them; a second run changes nothing; a stopped run resumes.

use adapter_mongo::{MongoSettings, MongoStore, SeedNumbering};
use application::ports::outbound::{HistoryOrder, HistoryQuery, MessageStore};
use chat_tests::services;
use domain::{ChannelId, RoomId, RoomKey, Seq};
use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};
use secrecy::ExposeSecret as _;

const DM: u64 = 5;
const CHANNEL: u64 = 12;

async fn fresh() -> (MongoStore, mongodb::Database) {
    let settings = MongoSettings {
        database: services::unique_name("seed"),
        ..MongoSettings::new(services::mongodb_uri())
    };
    let store = MongoStore::connect(&settings)
        .await
        .expect("the shared MongoDB answers (scripts/services up)");
    let client = mongodb::Client::with_uri_str(settings.uri.expose_secret())
        .await
        .expect("client");
    (store, client.database(&settings.database))
}

/// A message as the seed's Spring Data wrote it: an `ObjectId`, a millisecond date, no `seq`.
fn seed(oid: &str, room: u64, millis: i64, content: &str) -> Document {
    doc! {
        "_id": ObjectId::parse_str(oid).expect("oid"),
        "channelId": i64::try_from(room).expect("small"),
        "communityId": 3_i64,
        "userId": 1_i64,
        "content": content,
        "localDateTime": DateTime::from_millis(millis),
        "type": "text",
        "name": "alice",
        "profileImage": "https://img/alice.png",
    }
}

fn everything(order: HistoryOrder) -> HistoryQuery {
    HistoryQuery {
        before: None,
        after: None,
        order,
        skip: 0,
        limit: 100,
    }
}

async fn contents(store: &MongoStore, room: RoomKey) -> Vec<(u64, String)> {
    store
        .messages()
        .history(room, everything(HistoryOrder::OldestFirst))
        .await
        .expect("history")
        .iter()
        .map(|message| {
            (
                message.seq().get(),
                message.body().expect("live").as_str().to_owned(),
            )
        })
        .collect()
}

/// Every document of `collection`, by `_id`.
async fn all_of(collection: &mongodb::Collection<Document>) -> Vec<Document> {
    futures::TryStreamExt::try_collect(
        collection
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .expect("find"),
    )
    .await
    .expect("read")
}

#[tokio::test]
async fn seed_messages_are_numbered_per_room_in_time_order_and_a_second_run_changes_nothing() {
    let (store, database) = fresh().await;
    let direct = database.collection::<Document>("directMessage");
    let channel = database.collection::<Document>("channelMessage");
    // Inserted out of time order; two share a millisecond (the smaller id comes first).
    direct
        .insert_many([
            seed("620f1c2a9b1e8a3d4c5b6a03", DM, 3_000, "third"),
            seed("620f1c2a9b1e8a3d4c5b6a01", DM, 1_000, "first"),
            seed("620f1c2a9b1e8a3d4c5b6a0b", DM, 2_000, "second, larger id"),
            seed("620f1c2a9b1e8a3d4c5b6a0a", DM, 2_000, "second, smaller id"),
        ])
        .await
        .expect("seed DMs");
    channel
        .insert_many([
            seed("620f1c2a9b1e8a3d4c5b6a22", CHANNEL, 20, "later"),
            seed("620f1c2a9b1e8a3d4c5b6a21", CHANNEL, 10, "earlier"),
        ])
        .await
        .expect("seed channel messages");
    let dm = RoomKey::Direct(RoomId::new(DM));
    assert!(
        contents(&store, dm).await.is_empty(),
        "unnumbered: invisible to history"
    );

    let report = store.number_seed_messages().await.expect("numbered");

    assert_eq!(
        report,
        SeedNumbering {
            rooms: 2,
            messages: 6
        }
    );
    assert_eq!(
        contents(&store, dm).await,
        vec![
            (1, "first".to_owned()),
            (2, "second, smaller id".to_owned()),
            (3, "second, larger id".to_owned()),
            (4, "third".to_owned()),
        ]
    );
    assert_eq!(
        contents(&store, RoomKey::Channel(ChannelId::new(CHANNEL))).await,
        vec![(1, "earlier".to_owned()), (2, "later".to_owned())]
    );
    let newest_first = store
        .messages()
        .history(dm, everything(HistoryOrder::NewestFirst))
        .await
        .expect("history");
    assert_eq!(
        newest_first.first().map(domain::Message::seq),
        Some(Seq::new(4))
    );

    let before = all_of(&direct).await;
    let again = store.number_seed_messages().await.expect("second run");
    let after = all_of(&direct).await;
    assert_eq!(again, SeedNumbering::default());
    assert_eq!(before, after);
    let counter = database
        .collection::<Document>("roomSequence")
        .find_one(doc! { "_id": "direct/5" })
        .await
        .expect("read")
        .expect("the room's counter");
    assert_eq!(counter.get_i64("seq"), Ok(4), "{counter}");
}

#[tokio::test]
async fn a_room_the_server_already_wrote_and_a_stopped_run_continue_after_the_counter() {
    let (store, database) = fresh().await;
    let direct = database.collection::<Document>("directMessage");
    direct
        .insert_many([
            seed("620f1c2a9b1e8a3d4c5b6a31", DM, 1_000, "one"),
            seed("620f1c2a9b1e8a3d4c5b6a32", DM, 2_000, "two"),
            seed("620f1c2a9b1e8a3d4c5b6a33", DM, 3_000, "three"),
        ])
        .await
        .expect("seed DMs");
    // A stopped run: it had reserved 1..=10 and numbered only the oldest message.
    database
        .collection::<Document>("roomSequence")
        .insert_one(doc! { "_id": "direct/5", "seq": 10_i64 })
        .await
        .expect("counter");
    direct
        .update_one(
            doc! { "_id": ObjectId::parse_str("620f1c2a9b1e8a3d4c5b6a31").expect("oid") },
            doc! { "$set": { "seq": 1_i64 } },
        )
        .await
        .expect("numbered");

    let report = store.number_seed_messages().await.expect("resumed");

    assert_eq!(
        report,
        SeedNumbering {
            rooms: 1,
            messages: 2
        }
    );
    assert_eq!(
        contents(&store, RoomKey::Direct(RoomId::new(DM))).await,
        vec![
            (1, "one".to_owned()),
            (11, "two".to_owned()),
            (12, "three".to_owned()),
        ]
    );
}

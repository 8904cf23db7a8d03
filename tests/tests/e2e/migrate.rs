//! `chat-server migrate` numbers the seed's messages in the configured MongoDB and says so;
//! without `[mongo]` it refuses with a clear error.

use chat_tests::{TestServer, services};
use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};

#[tokio::test]
async fn migrate_numbers_the_seed_messages_of_the_configured_database_and_reports_them() {
    let database = services::unique_name("migrate");
    let client = mongodb::Client::with_uri_str(services::mongodb_uri())
        .await
        .expect("client");
    let messages = client
        .database(&database)
        .collection::<Document>("directMessage");
    messages
        .insert_many([2_000_i64, 1_000].map(|millis| {
            doc! {
                "_id": ObjectId::new(),
                "channelId": 5_i64,
                "userId": 1_i64,
                "content": format!("sent at {millis}"),
                "localDateTime": DateTime::from_millis(millis),
                "type": "text",
            }
        }))
        .await
        .expect("seed messages");
    let uri = services::mongodb_uri();
    let env = [
        ("CHAT_MONGO__URI", uri.as_str()),
        ("CHAT_MONGO__DATABASE", database.as_str()),
    ];

    let first = TestServer::run_to_completion(&["migrate"], &env);
    let second = TestServer::run_to_completion(&["migrate"], &env);

    assert!(first.status.success(), "{first:?}");
    assert_eq!(last_line(&first), "numbered 2 seed messages in 1 rooms");
    assert_eq!(last_line(&second), "numbered 0 seed messages in 0 rooms");
    let oldest = messages
        .find_one(doc! { "seq": 1_i64 })
        .await
        .expect("read")
        .expect("seq 1");
    assert_eq!(oldest.get_str("content"), Ok("sent at 1000"));
}

/// The summary the command prints after its log lines.
fn last_line(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn migrate_without_a_mongo_table_says_what_to_set() {
    let output = TestServer::run_to_completion(&["migrate"], &[]);

    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("[mongo]") && said.contains("CHAT_MONGO__URI"),
        "{said}"
    );
}

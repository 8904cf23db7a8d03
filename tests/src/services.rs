//! Where the real services of cluster mode listen: `scripts/services up` starts them
//! and writes their addresses to `target/services/env`, which the test command sources.
//! A test that needs one and finds no address fails with how to start it; none is skipped.

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `scripts/services up && . target/services/env` (the test command does)")
    })
}

/// `host:port` of the shared Kafka-protocol broker.
pub fn kafka_brokers() -> String {
    required("CHAT_TEST_KAFKA_BROKERS")
}

/// Connection string of the shared MongoDB-protocol server.
pub fn mongodb_uri() -> String {
    required("CHAT_TEST_MONGODB_URI")
}

/// URL of the shared Redis server.
pub fn redis_url() -> String {
    required("CHAT_TEST_REDIS_URL")
}

/// The Tansu binary, for tests that run (and restart) a broker of their own.
pub fn tansu_bin() -> String {
    required("CHAT_TEST_TANSU_BIN")
}

/// The redis-server binary, for tests that run (and restart) a Redis of their own.
pub fn redis_server_bin() -> String {
    required("CHAT_TEST_REDIS_SERVER_BIN")
}

/// A name no other test uses (topics, groups, databases, key prefixes).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// `http://host:port` of the shared S3-compatible server (moto).
pub fn s3_endpoint() -> String {
    required("CHAT_TEST_S3_ENDPOINT")
}

/// Creates a bucket no other test uses on the shared S3 server and returns its name.
/// (The server never creates buckets; tests do, as a deployment would.)
pub async fn fresh_bucket() -> String {
    let bucket = unique_name("files");
    let response = reqwest::Client::new()
        .put(format!("{}/{bucket}", s3_endpoint()))
        .send()
        .await
        .expect("the shared S3 server answers (scripts/services up)");
    assert!(
        response.status().is_success(),
        "bucket {bucket} not created: {}",
        response.status()
    );
    bucket
}

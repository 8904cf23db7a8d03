//! `chat-server migrate`: numbers the seed's messages in MongoDB (they carry no `seq`) so that
//! history pages over them like over new ones. Safe to re-run and to resume; run it before
//! the instances serve the seed's rooms.

use crate::Settings;

/// Runs the migration against the configured MongoDB and says what it did.
///
/// # Errors
/// No `[mongo]` table, a build without the `mongo` feature, or a server that fails.
#[cfg(feature = "mongo")]
pub async fn run(settings: &Settings) -> anyhow::Result<String> {
    use anyhow::Context as _;

    let mongo = settings
        .mongo
        .as_ref()
        .context("migrate numbers the seed's messages in MongoDB: set [mongo] (CHAT_MONGO__URI)")?;
    let store = adapter_mongo::MongoStore::connect(mongo)
        .await
        .context("cannot use MongoDB ([mongo])")?;
    let done = store.number_seed_messages().await?;
    Ok(format!(
        "numbered {} seed messages in {} rooms",
        done.messages, done.rooms
    ))
}

/// Without the `mongo` feature there is no MongoDB to migrate.
///
/// # Errors
/// Always: names the feature.
#[cfg(not(feature = "mongo"))]
#[allow(clippy::unused_async)]
pub async fn run(_settings: &Settings) -> anyhow::Result<String> {
    anyhow::bail!(
        "migrate works on MongoDB, and this chat-server was built without the `mongo` feature: \
         rebuild with `cargo build --release --features mongo`"
    )
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "mongo"))]
    #[tokio::test]
    async fn a_build_without_mongo_refuses_to_migrate_naming_the_feature() {
        let settings = crate::settings::with_overrides(&[("mongo.uri", "mongodb://127.0.0.1")]);

        let error = super::run(&settings).await.expect_err("refused");

        assert!(error.to_string().contains("`mongo` feature"), "{error}");
    }
}

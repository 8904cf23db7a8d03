//! The connection to Mongo, shared by the message store and the read markers.

use anyhow::Context as _;
use mongodb::bson::doc;
use mongodb::options::{Acknowledgment, ClientOptions, WriteConcern};
use mongodb::{Client, Database};
use secrecy::ExposeSecret as _;

use crate::driver::bounded;
use crate::indexes;
use crate::message_store::MongoMessageStore;
use crate::read_markers::MongoReadMarkers;
use crate::rooms::ROOM_SEQUENCES;
use crate::sequences::RoomSequences;
use crate::settings::MongoSettings;

/// A connected Mongo database. Cheap to clone: clones share one client (one
/// connection pool), and so do the adapters it hands out.
#[derive(Debug, Clone)]
pub struct MongoStore {
    database: Database,
    hosts: String,
    settings: MongoSettings,
}

impl MongoStore {
    /// Connects, checks that the server answers, and creates the indexes.
    ///
    /// # Errors
    /// Invalid settings, an unparsable `uri`, a server that does not answer within the
    /// timeouts (the error names its hosts, never the credentials), or indexes that
    /// cannot be created.
    pub async fn connect(settings: &MongoSettings) -> anyhow::Result<Self> {
        let store = Self::connect_lazily(settings).await?;
        store.ping().await?;
        bounded(
            settings.operation_timeout(),
            "index creation",
            indexes::create(&store.database),
        )
        .await
        .with_context(|| format!("MongoDB at {}", store.hosts))?;
        tracing::info!(hosts = %store.hosts, database = %settings.database, "connected to MongoDB");
        Ok(store)
    }

    /// Builds the client without talking to the server: no ping, no indexes. Calls
    /// then fail with `Unavailable` until the server answers. For tests of outages;
    /// a server should start with [`MongoStore::connect`].
    ///
    /// # Errors
    /// Invalid settings or an unparsable `uri`.
    pub async fn connect_lazily(settings: &MongoSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        // Parsing may resolve a `mongodb+srv://` name, so it gets a deadline too.
        let mut options = bounded(settings.operation_timeout(), "uri parsing", async {
            Ok(ClientOptions::parse(settings.uri.expose_secret()).await?)
        })
        .await
        .context("mongo.uri is not a usable connection string")?;
        let hosts = options
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        options
            .app_name
            .get_or_insert_with(|| "chat-server".to_owned());
        options.connect_timeout = Some(settings.connect_timeout());
        options.server_selection_timeout = Some(settings.server_selection_timeout());
        // Acknowledged by a majority and journaled: an acknowledged message survives
        // the crash of any server (and of a standalone one, thanks to the journal).
        options.write_concern = Some(
            WriteConcern::builder()
                .w(Acknowledgment::Majority)
                .journal(true)
                .w_timeout(settings.operation_timeout())
                .build(),
        );
        let client = Client::with_options(options)
            .with_context(|| format!("cannot create a MongoDB client for {hosts}"))?;
        Ok(Self {
            database: client.database(&settings.database),
            hosts,
            settings: settings.clone(),
        })
    }

    /// Messages and tombstones.
    pub fn messages(&self) -> MongoMessageStore {
        MongoMessageStore::new(
            &self.database,
            RoomSequences::new(self.database.collection(ROOM_SEQUENCES)),
            self.settings.operation_timeout(),
        )
    }

    pub(crate) fn database(&self) -> &Database {
        &self.database
    }

    pub(crate) fn operation_timeout(&self) -> std::time::Duration {
        self.settings.operation_timeout()
    }

    /// Read markers.
    pub fn markers(&self) -> MongoReadMarkers {
        MongoReadMarkers::new(&self.database, self.settings.operation_timeout())
    }

    /// Whether the server answers, for readiness probes.
    ///
    /// # Errors
    /// When it does not answer within the operation timeout.
    pub async fn ping(&self) -> anyhow::Result<()> {
        bounded(self.settings.operation_timeout(), "ping", async {
            self.database.run_command(doc! { "ping": 1 }).await?;
            Ok(())
        })
        .await
        .with_context(|| format!("MongoDB at {} does not answer", self.hosts))
    }
}

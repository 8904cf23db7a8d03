//! The `[mongo]` settings table (bootstrap owns where it comes from).

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// The `[mongo]` settings table.
#[derive(Debug, Clone, Deserialize)]
pub struct MongoSettings {
    /// Connection string, e.g. `mongodb://db1:27017,db2:27017/?replicaSet=rs0`. It may hold
    /// credentials, so it is never logged (its `Debug` is redacted): errors name the hosts
    /// only.
    pub uri: SecretString,
    /// Database holding `directMessage`, `channelMessage`, `messageTime` and `roomSequence`.
    #[serde(default = "default_database")]
    pub database: String,
    /// Limit on opening one connection to a server.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Limit on finding a server fit for an operation (how long an outage is waited out
    /// before a call fails).
    #[serde(default = "default_server_selection_timeout_ms")]
    pub server_selection_timeout_ms: u64,
    /// Limit on a whole port call, every round trip and retry included; also the write
    /// concern's `wtimeout`.
    #[serde(default = "default_operation_timeout_ms")]
    pub operation_timeout_ms: u64,
}

fn default_database() -> String {
    "chat".to_owned()
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}

fn default_server_selection_timeout_ms() -> u64 {
    2_000
}

fn default_operation_timeout_ms() -> u64 {
    5_000
}

impl MongoSettings {
    /// The defaults, talking to `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: SecretString::from(uri.into()),
            database: default_database(),
            connect_timeout_ms: default_connect_timeout_ms(),
            server_selection_timeout_ms: default_server_selection_timeout_ms(),
            operation_timeout_ms: default_operation_timeout_ms(),
        }
    }

    /// Refuses settings that could only fail at the first call (or never finish).
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.uri.expose_secret().trim().is_empty(),
            "mongo.uri is empty"
        );
        // The characters MongoDB refuses in database names.
        anyhow::ensure!(
            !self.database.is_empty()
                && !self
                    .database
                    .contains(['/', '\\', '.', ' ', '"', '$', '\0']),
            "mongo.database `{}` is not a valid database name",
            self.database
        );
        anyhow::ensure!(
            self.connect_timeout_ms > 0
                && self.server_selection_timeout_ms > 0
                && self.operation_timeout_ms > 0,
            "mongo timeouts must be positive"
        );
        Ok(())
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub(crate) fn server_selection_timeout(&self) -> Duration {
        Duration::from_millis(self.server_selection_timeout_ms)
    }

    pub(crate) fn operation_timeout(&self) -> Duration {
        Duration::from_millis(self.operation_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_uri_is_required_and_the_rest_has_defaults() {
        // Any serde format does; BSON is the one this crate already has.
        let settings: MongoSettings =
            mongodb::bson::from_document(mongodb::bson::doc! { "uri": "mongodb://db:27017" })
                .expect("valid");
        assert_eq!(settings.uri.expose_secret(), "mongodb://db:27017");
        assert_eq!(settings.database, "chat");
        assert_eq!(settings.connect_timeout_ms, 2_000);
        assert_eq!(settings.server_selection_timeout_ms, 2_000);
        assert_eq!(settings.operation_timeout_ms, 5_000);
        settings.validate().expect("defaults are valid");
    }

    #[test]
    fn debug_output_never_shows_the_uri_and_its_credentials() {
        let settings = MongoSettings::new("mongodb://chat:nobody-may-read@db:27017");

        let printed = format!("{settings:?}");

        assert!(!printed.contains("nobody-may-read"), "{printed}");
        assert!(printed.contains("database: \"chat\""), "{printed}");
    }

    #[test]
    fn unusable_settings_are_refused() {
        let bad = [
            MongoSettings::new(" "),
            MongoSettings {
                database: String::new(),
                ..MongoSettings::new("mongodb://db")
            },
            MongoSettings {
                database: "chat.messages".into(),
                ..MongoSettings::new("mongodb://db")
            },
            MongoSettings {
                operation_timeout_ms: 0,
                ..MongoSettings::new("mongodb://db")
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?} was accepted");
        }
    }
}

//! The `[redis]` settings table (bootstrap owns where it comes from).

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// Where Redis is, how patiently to ask it, and how its keys are named.
#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]` (`redis-cluster://…` and `redis-sentinel://…`
    /// work too, as fred reads them). It may hold a password, so its `Debug` is redacted.
    pub url: SecretString,
    /// Put in front of every key this server owns (sessions, leases, room-list cache), so
    /// several deployments (or tests) can share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// Put in front of the member-cache keys. Empty by default: the keys are the seed's own
    /// `R{roomId}` and `CH{communityId}` (`docs/original-system.md` §6.1), shared with the seed's
    /// chat server while both run.
    #[serde(default)]
    pub member_cache_prefix: String,
    /// The longest time a dead instance's sessions stay online: an instance renews its lease
    /// every third of this, and once it stops the survivors close its sessions.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u64,
    /// Limit on one Redis command, queueing while reconnecting included.
    #[serde(default = "default_command_timeout_ms")]
    pub command_timeout_ms: u64,
    /// Limit on establishing the connection.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long a cached member list lives: 14 days, like the seed's keys. The member-list PUTs
    /// of the community service refresh it whenever membership changes.
    #[serde(default = "default_member_cache_ttl_seconds")]
    pub member_cache_ttl_seconds: u64,
    /// How long a user's cached room list lives; short, because nothing says when it changes
    /// (other than the member-list PUTs, which drop the lists of those who joined or left).
    #[serde(default = "default_room_list_cache_ttl_seconds")]
    pub room_list_cache_ttl_seconds: u64,
}

fn default_key_prefix() -> String {
    "chat:".to_owned()
}

fn default_lease_seconds() -> u64 {
    30
}

fn default_command_timeout_ms() -> u64 {
    2_000
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}

fn default_member_cache_ttl_seconds() -> u64 {
    14 * 24 * 60 * 60
}

fn default_room_list_cache_ttl_seconds() -> u64 {
    60
}

impl RedisSettings {
    /// The defaults, talking to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            key_prefix: default_key_prefix(),
            member_cache_prefix: String::new(),
            lease_seconds: default_lease_seconds(),
            command_timeout_ms: default_command_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            member_cache_ttl_seconds: default_member_cache_ttl_seconds(),
            room_list_cache_ttl_seconds: default_room_list_cache_ttl_seconds(),
        }
    }

    /// Refuses settings that could only fail later (or never finish).
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.url.expose_secret().trim().is_empty(),
            "redis.url is empty (expected redis://host:port)"
        );
        anyhow::ensure!(
            self.command_timeout_ms > 0 && self.connect_timeout_ms > 0,
            "redis timeouts must be positive"
        );
        anyhow::ensure!(
            self.lease_seconds > 0,
            "redis.lease_seconds must be positive"
        );
        anyhow::ensure!(
            self.member_cache_ttl_seconds > 0 && self.room_list_cache_ttl_seconds > 0,
            "redis cache TTLs must be positive (Redis refuses a zero expiry)"
        );
        Ok(())
    }

    /// How long a lease lasts without renewal.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds)
    }

    pub(crate) fn command_timeout(&self) -> Duration {
        Duration::from_millis(self.command_timeout_ms)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_url_is_required_and_the_rest_has_defaults() {
        let settings: RedisSettings =
            serde_json::from_str(r#"{"url":"redis://cache:6379"}"#).expect("valid");
        assert_eq!(settings.url.expose_secret(), "redis://cache:6379");
        assert_eq!(settings.key_prefix, "chat:");
        assert_eq!(settings.member_cache_prefix, "");
        assert_eq!(settings.lease_seconds, 30);
        assert_eq!(settings.command_timeout_ms, 2_000);
        assert_eq!(settings.connect_timeout_ms, 2_000);
        assert_eq!(settings.member_cache_ttl_seconds, 1_209_600);
        assert_eq!(settings.room_list_cache_ttl_seconds, 60);
        settings.validate().expect("defaults are valid");
    }

    #[test]
    fn debug_output_never_shows_the_url_and_its_password() {
        let settings = RedisSettings::new("redis://default:nobody-may-read@cache:6379");

        let printed = format!("{settings:?}");

        assert!(!printed.contains("nobody-may-read"), "{printed}");
        assert!(printed.contains("key_prefix: \"chat:\""), "{printed}");
    }

    #[test]
    fn unusable_settings_are_refused() {
        let bad = [
            RedisSettings::new(" "),
            RedisSettings {
                lease_seconds: 0,
                ..RedisSettings::new("redis://h:1")
            },
            RedisSettings {
                command_timeout_ms: 0,
                ..RedisSettings::new("redis://h:1")
            },
            RedisSettings {
                member_cache_ttl_seconds: 0,
                ..RedisSettings::new("redis://h:1")
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?} was accepted");
        }
    }
}

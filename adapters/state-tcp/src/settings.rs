//! The `[state_server]` settings table (bootstrap owns where it comes from) and the choice of
//! wire format.

use std::time::Duration;

use serde::Deserialize;

/// How a request line is written. Replies have the same shapes in both formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireFormat {
    /// The seed's `LoginSessionRequest.toString()`:
    /// `{type='login', session_id='…', user_id='1', channel_id='null', community_id='null', ids=null}`.
    /// What the seed's presence server (Gson in lenient mode) reads.
    #[default]
    Seed,
    /// The same fields as one JSON object per line, with real `null`s, for a state server that
    /// speaks strict JSON.
    Json,
}

/// The `[state_server]` settings table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StateTcpSettings {
    /// `host:port` of the state server; resolved on every dial, so a DNS change is picked up
    /// when the pool reconnects.
    pub address: String,
    /// How requests are written.
    #[serde(default)]
    pub format: WireFormat,
    /// How many connections may be open at once; also how many requests may be in flight,
    /// since each connection carries one request at a time.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Limit on establishing one TCP connection.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Limit on a whole call: waiting for a free connection, connecting, writing and reading
    /// the reply.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Longest reply line accepted, so a broken server cannot make us buffer without end.
    #[serde(default = "default_max_reply_bytes")]
    pub max_reply_bytes: usize,
}

fn default_pool_size() -> usize {
    4
}

fn default_connect_timeout_ms() -> u64 {
    1_000
}

fn default_request_timeout_ms() -> u64 {
    2_000
}

fn default_max_reply_bytes() -> usize {
    64 * 1024
}

impl StateTcpSettings {
    /// The defaults, talking to `address`.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            format: WireFormat::default(),
            pool_size: default_pool_size(),
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            max_reply_bytes: default_max_reply_bytes(),
        }
    }

    /// Refuses settings that could only fail at the first call (or never finish).
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.address.trim().is_empty(),
            "state_server.address is empty (expected host:port)"
        );
        anyhow::ensure!(
            self.address
                .rsplit_once(':')
                .is_some_and(|(host, port)| { !host.is_empty() && port.parse::<u16>().is_ok() }),
            "state_server.address `{}` is not host:port",
            self.address
        );
        anyhow::ensure!(
            self.pool_size > 0,
            "state_server.pool_size must be at least 1"
        );
        anyhow::ensure!(
            self.connect_timeout_ms > 0 && self.request_timeout_ms > 0,
            "state_server timeouts must be positive"
        );
        // A reply line always carries at least its CRLF.
        anyhow::ensure!(
            self.max_reply_bytes >= 2,
            "state_server.max_reply_bytes is too small"
        );
        Ok(())
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_address_is_required_and_the_rest_has_defaults() {
        let settings: StateTcpSettings =
            serde_json::from_str(r#"{"address":"presence:9000"}"#).expect("valid");
        assert_eq!(settings, StateTcpSettings::new("presence:9000"));
        assert_eq!(settings.format, WireFormat::Seed);
        assert_eq!(settings.pool_size, 4);
        assert_eq!(settings.connect_timeout_ms, 1_000);
        assert_eq!(settings.request_timeout_ms, 2_000);
        assert_eq!(settings.max_reply_bytes, 65_536);
        settings.validate().expect("defaults are valid");
    }

    #[test]
    fn the_format_is_written_in_lowercase() {
        let settings: StateTcpSettings =
            serde_json::from_str(r#"{"address":"h:1","format":"json"}"#).expect("valid");
        assert_eq!(settings.format, WireFormat::Json);
        assert!(
            serde_json::from_str::<StateTcpSettings>(r#"{"address":"h:1","format":"xml"}"#)
                .is_err()
        );
    }

    #[test]
    fn unusable_settings_are_refused() {
        let bad = [
            StateTcpSettings::new(""),
            StateTcpSettings::new("no-port"),
            StateTcpSettings::new("host:notaport"),
            StateTcpSettings {
                pool_size: 0,
                ..StateTcpSettings::new("h:1")
            },
            StateTcpSettings {
                request_timeout_ms: 0,
                ..StateTcpSettings::new("h:1")
            },
            StateTcpSettings {
                max_reply_bytes: 1,
                ..StateTcpSettings::new("h:1")
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?} was accepted");
        }
    }
}

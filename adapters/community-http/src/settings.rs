//! The community service settings table (bootstrap owns where it comes from).

use std::time::Duration;

use serde::Deserialize;

/// Where the community service is and how patiently to ask it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommunityHttpSettings {
    /// Base URL of the community service, e.g. `http://community:8080/community-server`; the
    /// seed's paths (`/community/feign/…`, `/room/feign/…`) are appended to it.
    pub base_url: String,
    /// Limit on one attempt (connecting, sending and reading the whole reply).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How many times a GET is tried again after a connect error, a timeout or a 5xx. All the
    /// calls are idempotent reads, so retrying them is safe.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Pause before the first retry; the n-th retry waits n times as long.
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
    /// How long a member list is trusted without asking again: 14 days, like the seed's Redis
    /// keys `R{roomId}` and `CH{communityId}`, which the community service keeps current through
    /// the member-list PUTs (`docs/original-system.md` §3.4). Zero means "always ask, and use the
    /// cache only when the service is down".
    #[serde(default = "default_member_cache_ttl_seconds")]
    pub member_cache_ttl_seconds: u64,
    /// How long a user's room list is trusted; short, because nothing tells us when it changes.
    #[serde(default = "default_room_list_cache_ttl_seconds")]
    pub room_list_cache_ttl_seconds: u64,
}

fn default_timeout_ms() -> u64 {
    2_000
}

fn default_retries() -> u32 {
    2
}

fn default_retry_backoff_ms() -> u64 {
    100
}

fn default_member_cache_ttl_seconds() -> u64 {
    14 * 24 * 60 * 60
}

fn default_room_list_cache_ttl_seconds() -> u64 {
    60
}

impl CommunityHttpSettings {
    /// The defaults, talking to `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
            retry_backoff_ms: default_retry_backoff_ms(),
            member_cache_ttl_seconds: default_member_cache_ttl_seconds(),
            room_list_cache_ttl_seconds: default_room_list_cache_ttl_seconds(),
        }
    }

    /// Refuses settings that could only fail at the first call (or never finish).
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        service_http::validate_base_url("community.base_url", &self.base_url)?;
        anyhow::ensure!(self.timeout_ms > 0, "community.timeout_ms must be positive");
        Ok(())
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub(crate) fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
    }

    pub(crate) fn member_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.member_cache_ttl_seconds)
    }

    pub(crate) fn room_list_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.room_list_cache_ttl_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_base_url_is_required_and_the_rest_has_defaults() {
        let settings: CommunityHttpSettings =
            serde_json::from_str(r#"{"base_url":"http://community:8080"}"#).expect("valid");
        assert_eq!(
            settings,
            CommunityHttpSettings::new("http://community:8080")
        );
        assert_eq!(settings.timeout_ms, 2_000);
        assert_eq!(settings.retries, 2);
        assert_eq!(settings.member_cache_ttl_seconds, 1_209_600);
        assert_eq!(settings.room_list_cache_ttl_seconds, 60);
        settings.validate().expect("defaults are valid");
    }

    #[test]
    fn unusable_settings_are_refused() {
        let bad = [
            CommunityHttpSettings::new(""),
            CommunityHttpSettings::new("community:8080"),
            CommunityHttpSettings::new("https://api.example.org/community-server"),
            CommunityHttpSettings {
                timeout_ms: 0,
                ..CommunityHttpSettings::new("http://h:1")
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?} was accepted");
        }
    }
}

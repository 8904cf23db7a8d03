//! The auth service settings table (bootstrap owns where it comes from).

use std::time::Duration;

use serde::Deserialize;

/// Where the auth service is and how patiently to ask it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthHttpSettings {
    /// Base URL of the auth service, e.g. `http://auth:8080/auth-server`; the seed's path
    /// `/find-id-list` is appended to it.
    pub base_url: String,
    /// Limit on one attempt (connecting, sending and reading the whole reply).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How many times a lookup is tried again after a connect error, a timeout or a 5xx. The
    /// POST only reads profiles, so retrying it is safe.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Pause before the first retry; the n-th retry waits n times as long.
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
    /// How long a profile is trusted without asking again. Names and images change rarely and
    /// nothing tells us when, so a few minutes. Zero means "always ask, and use the cache only
    /// when the service is down".
    #[serde(default = "default_profile_cache_ttl_seconds")]
    pub profile_cache_ttl_seconds: u64,
    /// Bound on the profiles kept (fetched ones, and as many learned from tokens), so a flood of
    /// distinct ids cannot exhaust memory.
    #[serde(default = "default_max_cached_profiles")]
    pub max_cached_profiles: usize,
    /// After a failed lookup, how long profiles are answered from the fallbacks without asking
    /// the service, so a down or slow service does not add its timeouts to every message.
    #[serde(default = "default_outage_pause_ms")]
    pub outage_pause_ms: u64,
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

fn default_profile_cache_ttl_seconds() -> u64 {
    300
}

fn default_max_cached_profiles() -> usize {
    100_000
}

fn default_outage_pause_ms() -> u64 {
    5_000
}

impl AuthHttpSettings {
    /// The defaults, talking to `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
            retry_backoff_ms: default_retry_backoff_ms(),
            profile_cache_ttl_seconds: default_profile_cache_ttl_seconds(),
            max_cached_profiles: default_max_cached_profiles(),
            outage_pause_ms: default_outage_pause_ms(),
        }
    }

    /// Refuses settings that could only fail at the first call (or never finish).
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        service_http::validate_base_url("auth.base_url", &self.base_url)?;
        anyhow::ensure!(self.timeout_ms > 0, "auth.timeout_ms must be positive");
        anyhow::ensure!(
            self.max_cached_profiles > 0,
            "auth.max_cached_profiles must be positive"
        );
        Ok(())
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub(crate) fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
    }

    pub(crate) fn profile_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.profile_cache_ttl_seconds)
    }

    pub(crate) fn outage_pause(&self) -> Duration {
        Duration::from_millis(self.outage_pause_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_base_url_is_required_and_the_rest_has_defaults() {
        let settings: AuthHttpSettings =
            serde_json::from_str(r#"{"base_url":"http://auth:8080/auth-server"}"#).expect("valid");
        assert_eq!(
            settings,
            AuthHttpSettings::new("http://auth:8080/auth-server")
        );
        assert_eq!(settings.timeout_ms, 2_000);
        assert_eq!(settings.retries, 2);
        assert_eq!(settings.retry_backoff_ms, 100);
        assert_eq!(settings.profile_cache_ttl_seconds, 300);
        assert_eq!(settings.max_cached_profiles, 100_000);
        settings.validate().expect("defaults are valid");
        assert!(serde_json::from_str::<AuthHttpSettings>(r#"{"timeout_ms":5}"#).is_err());
    }

    #[test]
    fn unusable_settings_are_refused() {
        let bad = [
            AuthHttpSettings::new(""),
            AuthHttpSettings::new("auth:8080"),
            AuthHttpSettings::new("https://api.example.org/auth-server"),
            AuthHttpSettings {
                timeout_ms: 0,
                ..AuthHttpSettings::new("http://h:1")
            },
            AuthHttpSettings {
                max_cached_profiles: 0,
                ..AuthHttpSettings::new("http://h:1")
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?} was accepted");
        }
    }
}

//! The `[rest]` settings table.

use secrecy::SecretString;
use serde::Deserialize;

/// Credentials and limits of the REST API.
#[derive(Debug, Clone, Deserialize)]
pub struct RestSettings {
    /// The credential the app's other services send as `X-Service-Token` on the
    /// service-to-service endpoints (its `Debug` is redacted).
    pub service_token: SecretString,
    /// Largest request body accepted (bytes).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Largest uploaded file (and thumbnail), in bytes; bootstrap sets it from `[files]`.
    #[serde(default = "default_max_file")]
    pub max_file_bytes: u64,
    /// Largest upload request in all (its parts together), counted as it streams in,
    /// with or without `Content-Length`; 0: a file and a thumbnail at their limit plus
    /// `max_body_bytes` for the form's fields.
    #[serde(default)]
    pub max_upload_bytes: usize,
    /// Uploads one user may have in progress at once (on this instance).
    #[serde(default = "default_max_concurrent_uploads")]
    pub max_concurrent_uploads: usize,
    /// Whether the seed's upload forms must name their room before the file, so that
    /// membership is checked before any of it is written to disk; `false` accepts the
    /// room after the file (the file is then spooled before the check).
    #[serde(default = "default_upload_room_first")]
    pub upload_room_first: bool,
}

impl RestSettings {
    /// Largest upload request: `max_upload_bytes`, or a file and a thumbnail at their
    /// limit plus the form's fields.
    pub(crate) fn max_upload_bytes(&self) -> usize {
        if self.max_upload_bytes > 0 {
            return self.max_upload_bytes;
        }
        usize::try_from(self.max_file_bytes.saturating_mul(2))
            .unwrap_or(usize::MAX)
            .saturating_add(self.max_body_bytes)
    }
}

fn default_max_file() -> u64 {
    10 * 1024 * 1024
}

fn default_max_body() -> usize {
    1024 * 1024
}

fn default_max_concurrent_uploads() -> usize {
    2
}

fn default_upload_room_first() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_service_token() {
        let settings = RestSettings {
            service_token: "the-service-token-nobody-may-read".into(),
            max_body_bytes: default_max_body(),
            max_file_bytes: default_max_file(),
            max_upload_bytes: 0,
            max_concurrent_uploads: default_max_concurrent_uploads(),
            upload_room_first: default_upload_room_first(),
        };

        let printed = format!("{settings:?}");

        assert!(!printed.contains("nobody-may-read"), "{printed}");
        assert!(printed.contains("max_body_bytes: 1048576"), "{printed}");
    }
}

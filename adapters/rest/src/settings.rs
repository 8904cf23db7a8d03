//! The `[rest]` settings table.

use serde::Deserialize;

/// Credentials and limits of the REST API. Its `Debug` hides the service token.
#[derive(Clone, Deserialize)]
pub struct RestSettings {
    /// The credential the app's other services send as `X-Service-Token` on the
    /// service-to-service endpoints.
    pub service_token: String,
    /// Largest request body accepted (bytes).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Largest uploaded file (and thumbnail), in bytes; bootstrap sets it from `[files]`.
    #[serde(default = "default_max_file")]
    pub max_file_bytes: u64,
}

impl std::fmt::Debug for RestSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestSettings")
            .field("service_token", &"<redacted>")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_file_bytes", &self.max_file_bytes)
            .finish_non_exhaustive()
    }
}

impl RestSettings {
    /// Largest upload request: a file and a thumbnail at their limit, plus the form's fields.
    pub(crate) fn max_upload_bytes(&self) -> usize {
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

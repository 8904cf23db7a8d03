//! The `[rest]` settings table.

use serde::Deserialize;

/// Credentials and limits of the REST API.
#[derive(Debug, Clone, Deserialize)]
pub struct RestSettings {
    /// The credential the app's other services send as `X-Service-Token` on the
    /// service-to-service endpoints.
    pub service_token: String,
    /// Largest request body accepted (bytes).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
}

fn default_max_body() -> usize {
    1024 * 1024
}

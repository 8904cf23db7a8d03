//! How the signing secret is configured.

use anyhow::Context as _;
use base64::Engine as _;
use serde::Deserialize;

/// How [`JwtSettings::secret`] is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretEncoding {
    /// The key is the UTF-8 bytes of the string.
    #[default]
    Raw,
    /// The string is base64 of the key, as jjwt 0.9 (the seed's issuer) treats it.
    Base64,
}

/// The `[jwt]` settings table. Its `Debug` hides the secret.
#[derive(Clone, Deserialize)]
pub struct JwtSettings {
    /// The HS256 secret.
    pub secret: String,
    /// How `secret` is written.
    #[serde(default)]
    pub secret_encoding: SecretEncoding,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("secret", &"<redacted>")
            .field("secret_encoding", &self.secret_encoding)
            .field("leeway_seconds", &self.leeway_seconds)
            .finish()
    }
}

fn default_leeway() -> u64 {
    30
}

impl JwtSettings {
    /// The key bytes (the secret's UTF-8 bytes, or its base64 decoding).
    pub fn key(&self) -> anyhow::Result<Vec<u8>> {
        let key = match self.secret_encoding {
            SecretEncoding::Raw => self.secret.as_bytes().to_vec(),
            SecretEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(self.secret.trim())
                .context("jwt.secret is not valid base64")?,
        };
        anyhow::ensure!(!key.is_empty(), "jwt.secret is empty");
        Ok(key)
    }
}

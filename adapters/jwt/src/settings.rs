//! How the signing secret is configured.

use anyhow::Context as _;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
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

/// The `[jwt]` settings table.
#[derive(Debug, Clone, Deserialize)]
pub struct JwtSettings {
    /// The HS256 secret (its `Debug` is redacted).
    pub secret: SecretString,
    /// How `secret` is written.
    #[serde(default)]
    pub secret_encoding: SecretEncoding,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
}

fn default_leeway() -> u64 {
    30
}

impl JwtSettings {
    /// The key bytes (the secret's UTF-8 bytes, or its base64 decoding).
    pub fn key(&self) -> anyhow::Result<Vec<u8>> {
        let secret = self.secret.expose_secret();
        let key = match self.secret_encoding {
            SecretEncoding::Raw => secret.as_bytes().to_vec(),
            SecretEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(secret.trim())
                .context("jwt.secret is not valid base64")?,
        };
        anyhow::ensure!(!key.is_empty(), "jwt.secret is empty");
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let settings = JwtSettings {
            secret: "the-jwt-secret-nobody-may-read".into(),
            secret_encoding: SecretEncoding::Raw,
            leeway_seconds: 30,
        };

        let printed = format!("{settings:?}");

        assert!(!printed.contains("nobody-may-read"), "{printed}");
        assert!(printed.contains("leeway_seconds: 30"), "{printed}");
    }
}

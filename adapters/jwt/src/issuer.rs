//! Signing development tokens, for `chat-server token`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::JwtSettings;
use crate::claims::IssuedClaims;

/// Signs tokens in the seed's shape with the configured secret.
pub struct JwtIssuer {
    key: EncodingKey,
}

impl JwtIssuer {
    /// Builds an issuer from the configured secret.
    pub fn new(settings: &JwtSettings) -> anyhow::Result<Self> {
        Ok(Self {
            key: EncodingKey::from_secret(&settings.key()?),
        })
    }

    /// A token for `user`, valid from now for `ttl`.
    pub fn issue(&self, user: u64, name: Option<&str>, ttl: Duration) -> anyhow::Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("system clock is before 1970")?
            .as_secs();
        let subject = format!("user{user}@chat.local");
        let claims = IssuedClaims {
            sub: &subject,
            id: user,
            role: "ROLE_USER",
            name,
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .context("failed to sign the token")
    }
}

#[cfg(test)]
mod tests {
    use application::ports::outbound::TokenVerifier as _;
    use domain::UserId;

    use super::*;
    use crate::{JwtTokenVerifier, SecretEncoding};

    #[test]
    fn an_issued_token_is_accepted_by_the_verifier_with_its_name() {
        let settings = JwtSettings {
            secret: "dev".into(),
            secret_encoding: SecretEncoding::Raw,
            leeway_seconds: 0,
        };
        let token = JwtIssuer::new(&settings)
            .expect("issuer")
            .issue(7, Some("gil"), Duration::from_secs(60))
            .expect("token");

        let verified = JwtTokenVerifier::new(&settings)
            .expect("verifier")
            .verify(&token)
            .expect("valid");

        assert_eq!(verified.user, UserId::new(7));
        assert_eq!(verified.name.as_deref(), Some("gil"));
    }
}

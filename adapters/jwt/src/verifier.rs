//! HS256 verification of access tokens.

use application::ports::outbound::{TokenError, TokenVerifier, VerifiedToken};
use domain::{Timestamp, UserId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::JwtSettings;
use crate::claims::IncomingClaims;

/// Verifies HS256 tokens: signature, `exp` (required), `nbf` (when present), a
/// non-empty `sub` and a numeric `id`. Any other algorithm, `none` included, is refused.
pub struct JwtTokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl JwtTokenVerifier {
    /// Builds a verifier from the configured secret.
    pub fn new(settings: &JwtSettings) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway_seconds;
        validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            key: DecodingKey::from_secret(&settings.key()?),
            validation,
        })
    }
}

impl TokenVerifier for JwtTokenVerifier {
    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        let data = jsonwebtoken::decode::<IncomingClaims>(token, &self.key, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::MissingRequiredClaim(_) => TokenError::BadClaim("exp"),
                _ => TokenError::Malformed,
            })?;
        let claims = data.claims;
        let subject = match claims.sub {
            Some(serde_json::Value::String(sub)) if !sub.trim().is_empty() => sub,
            _ => return Err(TokenError::BadClaim("sub")),
        };
        let user = match claims.id {
            Some(serde_json::Value::Number(n)) => n.as_u64().map(UserId::new),
            Some(serde_json::Value::String(s)) => UserId::parse(&s).ok(),
            _ => None,
        }
        .filter(|id| id.get() > 0)
        .ok_or(TokenError::BadClaim("id"))?;
        Ok(VerifiedToken {
            user,
            subject,
            name: claims.name.filter(|n| !n.trim().is_empty()),
            image: claims.profile_image.filter(|i| !i.trim().is_empty()),
            expires_at: expiry(claims.exp.as_ref()).ok_or(TokenError::BadClaim("exp"))?,
        })
    }
}

/// The `exp` claim (seconds since the epoch, whole or not) as a timestamp.
fn expiry(exp: Option<&serde_json::Value>) -> Option<Timestamp> {
    let seconds = exp?.as_f64().filter(|s| s.is_finite() && *s >= 0.0)?;
    #[allow(
        clippy::cast_possible_truncation,
        reason = "saturating: any exp past year 294,000 means never"
    )]
    let micros = (seconds * 1_000_000.0) as i64;
    Some(Timestamp::from_unix_micros(micros))
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::Engine as _;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::SecretEncoding;

    const SECRET: &str = "test-secret-of-some-length";

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    }

    fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .expect("signed")
    }

    fn verifier() -> JwtTokenVerifier {
        JwtTokenVerifier::new(&JwtSettings {
            secret: SECRET.into(),
            secret_encoding: SecretEncoding::Raw,
            leeway_seconds: 0,
        })
        .expect("verifier")
    }

    fn seed_claims() -> serde_json::Value {
        json!({"sub": "user@example.com", "role": "ROLE_USER", "id": 1, "iat": now(), "exp": now() + 3600})
    }

    #[test]
    fn a_seed_shaped_token_is_accepted() {
        let verified = verifier()
            .verify(&sign(&seed_claims(), SECRET.as_bytes()))
            .expect("valid");
        assert_eq!(verified.user, UserId::new(1));
        assert_eq!(verified.subject, "user@example.com");
        assert_eq!(verified.name, None);
    }

    #[test]
    fn the_token_says_when_it_expires() {
        let exp = now() + 3600;
        let claims = json!({"sub": "u", "id": 1, "exp": exp});
        let verified = verifier()
            .verify(&sign(&claims, SECRET.as_bytes()))
            .expect("valid");
        assert_eq!(
            verified.expires_at,
            Timestamp::from_unix_micros(i64::try_from(exp).expect("fits") * 1_000_000)
        );
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let claims = json!({"sub": "u", "id": 1, "exp": now() - 60});
        assert_eq!(
            verifier().verify(&sign(&claims, SECRET.as_bytes())),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_before_its_nbf_is_refused() {
        let claims = json!({"sub": "u", "id": 1, "nbf": now() + 600, "exp": now() + 3600});
        assert_eq!(
            verifier().verify(&sign(&claims, SECRET.as_bytes())),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        assert_eq!(
            verifier().verify(&sign(&seed_claims(), b"another secret")),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn a_token_without_exp_is_refused() {
        let claims = json!({"sub": "u", "id": 1});
        assert_eq!(
            verifier().verify(&sign(&claims, SECRET.as_bytes())),
            Err(TokenError::BadClaim("exp"))
        );
    }

    #[test]
    fn an_empty_subject_or_a_non_numeric_id_is_refused() {
        let empty_sub = json!({"sub": " ", "id": 1, "exp": now() + 60});
        let word_id = json!({"sub": "u", "id": "abc", "exp": now() + 60});
        let no_id = json!({"sub": "u", "exp": now() + 60});
        assert_eq!(
            verifier().verify(&sign(&empty_sub, SECRET.as_bytes())),
            Err(TokenError::BadClaim("sub"))
        );
        for claims in [word_id, no_id] {
            assert_eq!(
                verifier().verify(&sign(&claims, SECRET.as_bytes())),
                Err(TokenError::BadClaim("id"))
            );
        }
    }

    #[test]
    fn garbage_and_unsigned_tokens_are_malformed() {
        assert_eq!(verifier().verify("not.a.jwt"), Err(TokenError::Malformed));
        let unsigned = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seed_claims().to_string())
        );
        assert!(verifier().verify(&unsigned).is_err());
    }

    #[test]
    fn a_base64_configured_secret_verifies_tokens_signed_with_the_decoded_key() {
        let key = b"\x01\x02binary key bytes\xff";
        let settings = JwtSettings {
            secret: base64::engine::general_purpose::STANDARD.encode(key).into(),
            secret_encoding: SecretEncoding::Base64,
            leeway_seconds: 0,
        };
        let verifier = JwtTokenVerifier::new(&settings).expect("verifier");
        assert!(verifier.verify(&sign(&seed_claims(), key)).is_ok());
    }

    #[test]
    fn an_invalid_base64_secret_is_a_configuration_error() {
        let settings = JwtSettings {
            secret: "***".into(),
            secret_encoding: SecretEncoding::Base64,
            leeway_seconds: 0,
        };
        assert!(JwtTokenVerifier::new(&settings).is_err());
    }
}

use domain::{Timestamp, UserId, UserProfile};

/// What a valid access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The user (`id` claim).
    pub user: UserId,
    /// The subject (`sub` claim, the seed's e-mail address).
    pub subject: String,
    /// The display name, if the token carries one (`name` claim).
    pub name: Option<String>,
    /// The profile image, if the token carries one (`profileImage` claim).
    pub image: Option<String>,
    /// When the token expires (`exp` claim); a session opened with it ends then.
    pub expires_at: Timestamp,
}

impl VerifiedToken {
    /// The profile the token describes; the name falls back to the user id.
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            id: self.user,
            name: self.name.clone().unwrap_or_else(|| self.user.to_string()),
            image: self.image.clone(),
        }
    }
}

/// Checks access tokens. Synchronous: verification is CPU work on a few hundred bytes.
///
/// Implemented by `adapters/jwt` (`JwtTokenVerifier`); mocked as `MockTokenVerifier`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verify signature, validity period and required claims.
    ///
    /// # Errors
    /// A [`TokenError`] naming what is wrong with the token.
    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError>;
}

/// Why a token was refused. The messages are safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token was presented.
    #[error("no access token")]
    Missing,
    /// The token's `exp` has passed.
    #[error("access token expired")]
    Expired,
    /// The token's `nbf` is still in the future.
    #[error("access token not yet valid")]
    NotYetValid,
    /// The signature does not match.
    #[error("access token signature is invalid")]
    BadSignature,
    /// A claim is missing or has the wrong type.
    #[error("access token claim `{0}` is missing or invalid")]
    BadClaim(&'static str),
    /// Not a well-formed HS256 JWT.
    #[error("access token is malformed")]
    Malformed,
}

//! Credentials: users send their JWT as `Authorization: Bearer`; the app's other
//! services send the configured service token as `X-Service-Token`.

use application::ports::inbound::{Access, RequestKind};
use domain::UserId;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{ApiKey, Bearer};

use crate::error::ApiError;

/// A user's access token (the same JWT the STOMP CONNECT carries).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub(crate) struct UserToken(Bearer);

/// The credential of the app's own services (community and state servers).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Service-Token", key_in = "header")]
pub(crate) struct ServiceToken(ApiKey);

impl UserToken {
    /// The caller, once the token is verified and the request fits the caller's
    /// read allowance.
    pub(crate) async fn user(&self, access: &dyn Access) -> Result<UserId, ApiError> {
        let user = access.authenticate(&self.0.token)?.user;
        access.admit(user, RequestKind::Read).await?;
        Ok(user)
    }
}

impl UserToken {
    /// The uploader, once the token is verified and the upload fits the caller's
    /// write allowance (an upload posts a message; it never spends the read allowance).
    pub(crate) async fn uploader(&self, access: &dyn Access) -> Result<UserId, ApiError> {
        let user = access.authenticate(&self.0.token)?.user;
        access.admit(user, RequestKind::Write).await?;
        Ok(user)
    }
}

impl ServiceToken {
    /// Succeeds when the token is the configured one (compared in constant time).
    pub(crate) fn check(&self, expected: &str) -> Result<(), ApiError> {
        let given = self.0.key.as_bytes();
        let expected = expected.as_bytes();
        let same = given.len() == expected.len()
            && given
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same && !expected.is_empty() {
            Ok(())
        } else {
            Err(ApiError::unauthorized("invalid service token"))
        }
    }
}

//! The claims we read and write, in the seed's shape:
//! `{"sub":"user@example.com","role":"ROLE_USER","id":1,"iat":…,"exp":…}`.

use serde::{Deserialize, Serialize};

/// Claims as they arrive; every field optional so that a missing or mistyped one
/// is reported by name instead of as a generic decoding failure.
#[derive(Debug, Deserialize)]
pub(crate) struct IncomingClaims {
    pub(crate) sub: Option<serde_json::Value>,
    pub(crate) id: Option<serde_json::Value>,
    pub(crate) name: Option<String>,
    #[serde(rename = "profileImage")]
    pub(crate) profile_image: Option<String>,
    /// Required and checked by the validation before the claims are read; a
    /// number of seconds, whole or not.
    pub(crate) exp: Option<serde_json::Value>,
}

/// Claims of a token we issue.
#[derive(Debug, Serialize)]
pub(crate) struct IssuedClaims<'a> {
    pub(crate) sub: &'a str,
    pub(crate) id: u64,
    pub(crate) role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'a str>,
    pub(crate) iat: u64,
    pub(crate) nbf: u64,
    pub(crate) exp: u64,
}

//! Access tokens signed like the seed's auth server signs them.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

/// The built-in development secret the server uses unless configured otherwise (only
/// accepted on loopback without cluster services).
pub const DEVELOPMENT_SECRET: &str = "chat-server-development-secret";

/// The JWT secret every test server is configured with (as a deployment must be:
/// at least 32 bytes), and that [`token`] signs with.
pub const TEST_JWT_SECRET: &str = "chat-tests-jwt-secret-0123456789abcdef";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A token with arbitrary claims signed with `secret`.
pub fn token_signed_with(secret: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token is signed")
}

/// A valid token for `user` named `name`.
pub fn token(user: u64, name: &str) -> String {
    token_for(TEST_JWT_SECRET, user, name)
}

/// A valid token for `user` named `name`, signed with `secret` (load tools sign for the
/// server they are pointed at).
pub fn token_for(secret: &str, user: u64, name: &str) -> String {
    token_signed_with(
        secret,
        &json!({"sub": format!("{name}@example.com"), "role": "ROLE_USER", "id": user, "name": name, "iat": now(), "exp": now() + 3600}),
    )
}

/// A token for `user` that expired a minute ago.
pub fn expired_token(user: u64) -> String {
    token_signed_with(
        TEST_JWT_SECRET,
        &json!({"sub": "late@example.com", "id": user, "iat": now() - 7200, "exp": now() - 3600}),
    )
}

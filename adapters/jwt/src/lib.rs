//! JSON Web Tokens: the [`TokenVerifier`](application::ports::outbound::TokenVerifier)
//! port over HS256 (the seed's auth server signs with jjwt, HS256), and the issuer
//! behind the `chat-server token` development command.

mod claims;
mod issuer;
mod settings;
mod verifier;

pub use issuer::JwtIssuer;
pub use settings::{JwtSettings, SecretEncoding};
pub use verifier::JwtTokenVerifier;

//! The auth service over HTTP: the [`UserDirectory`](application::ports::outbound::UserDirectory)
//! port answered by the seed's auth server through the endpoint the seed's Feign `UserClient`
//! called (`POST /find-id-list`, `docs/original-system.md` §8), so the names and images in events
//! come from the authority instead of from tokens or payloads.
//!
//! # Layout
//!
//! * `settings`: the [`AuthHttpSettings`] table (base URL, timeout, retries, cache TTL and size).
//! * `client`: the POST, its retries and the lenient parsing of its body.
//! * the TTL cache that keeps expired entries for degraded mode is the `ttl-cache` crate.
//! * `degraded`: counting and (rate-limited) logging of answers given without the service.
//! * `directory`: [`HttpUserDirectory`], which ties them together behind the port.

mod client;
mod degraded;
mod directory;
mod settings;

pub use directory::HttpUserDirectory;
pub use settings::AuthHttpSettings;

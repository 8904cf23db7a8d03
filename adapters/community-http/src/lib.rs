//! The community service over HTTP: the
//! [`CommunityDirectory`](application::ports::outbound::CommunityDirectory) port answered by the
//! seed's community server through the same endpoints the seed's Feign `CommunityClient` called
//! (`docs/original-system.md` §8), so this server can replace the seed's chat server in front of
//! the existing community service.
//!
//! # Layout
//!
//! * `settings`: the [`CommunityHttpSettings`] table (base URL, timeout, retries, cache TTLs).
//! * `client`: the four GET calls, their retries and the lenient parsing of their bodies.
//! * the TTL cache that keeps expired entries for degraded mode is the `ttl-cache` crate.
//! * `directory`: [`HttpCommunityDirectory`], which ties them together behind the port.

mod client;
mod directory;
mod settings;

pub use directory::HttpCommunityDirectory;
pub use settings::CommunityHttpSettings;

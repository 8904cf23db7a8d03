//! Redis (through fred): the sessions and presence shared by every instance, with a lease per
//! instance ([`RedisPresenceStore`]), the rate limits shared by every instance
//! ([`RedisRateLimiter`]), and the member caches in front of the community directory
//! ([`RedisCachedDirectory`]), under the seed's own keys (`docs/original-system.md` §6.1).
//!
//! # Layout
//!
//! * `settings`: the `[redis]` table.
//! * `connection`: [`RedisConnection`], one self-reconnecting client with a time limit on every
//!   call, shared by the adapters below.
//! * `script`: Lua scripts run with EVALSHA, reloaded when the server lost them.
//! * `presence_keys`: the presence key names; only the lease keys expire.
//! * `presence_store`: [`RedisPresenceStore`], the `PresenceStore` port.
//! * `cache_keys`, `member_list`, `room_list`: the cache key names and values (the member lists
//!   in the seed's JSON).
//! * `outage_log`: one warning per Redis outage, not one per call.
//! * `cached_directory`: [`RedisCachedDirectory`], a `CommunityDirectory` cached in Redis.
//! * `rate_limiter`: [`RedisRateLimiter`], the `RateLimiter` shared by every instance (one Lua
//!   script per request), with a per-instance fallback while Redis is away.

mod cache_keys;
mod cached_directory;
mod connection;
mod member_list;
mod outage_log;
mod presence_keys;
mod presence_store;
mod rate_limiter;
mod room_list;
mod script;
mod settings;

pub use cached_directory::RedisCachedDirectory;
pub use connection::RedisConnection;
pub use presence_store::RedisPresenceStore;
pub use rate_limiter::RedisRateLimiter;
pub use settings::RedisSettings;

//! The embedded message store (`adapters/memory`): what it holds against its limits
//! (`[store.memory]`), and what it dropped. Label values are bounded: `reason` is one of
//! [`REASONS`].

/// Gauge: messages held in memory.
pub const MESSAGES: &str = "chat_memory_store_messages";
/// Gauge: rooms remembered (with or without messages).
pub const ROOMS: &str = "chat_memory_store_rooms";
/// Gauge: estimated bytes of the messages held.
pub const BYTES: &str = "chat_memory_store_bytes";
/// Gauge: the configured budget of [`BYTES`] (`store.memory.max_bytes`).
pub const MAX_BYTES: &str = "chat_memory_store_max_bytes";
/// Counter by [`REASON`]: messages dropped to stay within the limits.
pub const EVICTED: &str = "chat_memory_store_evicted_total";

/// Label key of [`EVICTED`].
pub const REASON: &str = "reason";
/// The [`REASON`] values: past `max_messages_per_room`, older than `max_age_seconds`, past
/// `max_bytes`, or in a room forgotten past `max_rooms`.
pub const REASONS: [&str; 4] = ["room_limit", "age", "bytes", "room_forgotten"];

//! How much the embedded message store keeps: its bounds per room, by age and in total.

use std::time::Duration;

/// The bounds of [`MemoryMessageStore`](crate::MemoryMessageStore). Past any of them the
/// oldest messages are dropped (a whole room for `max_rooms`): embedded mode keeps recent
/// history, in bounded memory, whatever clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStoreLimits {
    /// Messages kept per room: the newest ones.
    pub max_messages_per_room: usize,
    /// Messages posted longer ago than this are dropped; `None`: kept whatever their age.
    pub max_age: Option<Duration>,
    /// Rooms remembered (with or without messages); when full, the tenth silent longest is
    /// forgotten with its messages.
    pub max_rooms: usize,
    /// The estimated size of every message held, with its place in the store's indexes;
    /// past it the oldest messages of any room are dropped.
    pub max_bytes: usize,
}

impl MemoryStoreLimits {
    /// 10,000 messages per room, no age limit, 100,000 rooms and 128 MiB of messages: the
    /// process stays within a few hundred MB however much is posted, and a room keeps far
    /// more than a resume replays (`stomp.resume_limit`) or a client pages through.
    pub const DEFAULT: Self = Self {
        max_messages_per_room: 10_000,
        max_age: None,
        max_rooms: 100_000,
        max_bytes: 128 * 1024 * 1024,
    };
}

impl Default for MemoryStoreLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

use std::time::Duration;

use domain::{RoomKey, UserId};

/// What a request draws on: each user has one allowance per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Posting, replying, editing, deleting, typing.
    Write,
    /// Reading history, unread counts, presence.
    Read,
    /// Subscribing to a room, channel or community (each costs a directory lookup).
    Subscribe,
}

impl RequestKind {
    /// Every kind, so adapters can set each one up (or name each one's keys).
    pub const ALL: [Self; 3] = [Self::Write, Self::Read, Self::Subscribe];

    /// A stable lowercase name, for keys and logs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Read => "read",
            Self::Subscribe => "subscribe",
        }
    }
}

/// A sustained rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once after a quiet period.
    pub burst: f64,
}

impl Rate {
    /// This rate with both the sustained rate and the burst multiplied by `factor`.
    #[must_use]
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            per_second: self.per_second * factor,
            burst: self.burst * factor,
        }
    }
}

/// The allowance of each request kind, and of each room.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Posting, replying, editing, deleting, typing.
    pub write: Rate,
    /// Reading.
    pub read: Rate,
    /// Subscribing.
    pub subscribe: Rate,
    /// Changes to one room's messages (posts, replies, edits, deletes, file messages),
    /// whoever makes them: what one room may cost its subscribers. `None`: rooms are not
    /// limited (only their posters are).
    pub room_write: Option<Rate>,
}

impl Rates {
    /// The allowance of `kind`.
    pub const fn of(&self, kind: RequestKind) -> Rate {
        match kind {
            RequestKind::Write => self.write,
            RequestKind::Read => self.read,
            RequestKind::Subscribe => self.subscribe,
        }
    }

    /// Every allowance multiplied by `factor` (a stricter fallback when `factor` < 1).
    #[must_use]
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            write: self.write.scaled(factor),
            read: self.read.scaled(factor),
            subscribe: self.subscribe.scaled(factor),
            room_write: self.room_write.map(|rate| rate.scaled(factor)),
        }
    }
}

/// Whether a request may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the allowance.
    Allowed,
    /// Over it; the next request of this kind is allowed after `retry_after`.
    Limited {
        /// How long to wait.
        retry_after: Duration,
    },
}

/// Per-user request allowances, and per-room allowances of message changes.
///
/// Implemented by `adapters/memory` (`TokenBucketLimiter`, per instance) and `adapters/redis`
/// (`RedisRateLimiter`, shared by every instance); mocked as `MockRateLimiter`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one request of `kind` from `user`'s allowance.
    ///
    /// # Errors
    /// [`LimiterError::Unavailable`] when the limiter could not answer.
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError>;

    /// Takes one message change from `room`'s allowance, shared by everyone posting there.
    /// Always [`Admission::Allowed`] when [`Rates::room_write`] is `None`.
    ///
    /// # Errors
    /// [`LimiterError::Unavailable`] when the limiter could not answer.
    async fn admit_room(&self, room: RoomKey) -> Result<Admission, LimiterError>;
}

/// Failures of the rate limiter.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    /// The limiter's store could not be reached; the cause is attached.
    #[error("rate limiter unavailable")]
    Unavailable(#[source] anyhow::Error),
}

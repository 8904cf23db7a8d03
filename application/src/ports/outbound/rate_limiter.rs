use std::time::Duration;

use domain::UserId;

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

/// Per-user request allowances.
///
/// Implemented by `adapters/memory` (`TokenBucketLimiter`); mocked as `MockRateLimiter`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[trait_variant::make(Send)]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one request of `kind` from `user`'s allowance.
    ///
    /// # Errors
    /// [`LimiterError::Unavailable`] when the limiter could not answer.
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError>;
}

/// Failures of the rate limiter.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    /// The limiter's store could not be reached; the cause is attached.
    #[error("rate limiter unavailable")]
    Unavailable(#[source] anyhow::Error),
}

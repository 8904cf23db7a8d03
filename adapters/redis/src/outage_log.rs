//! [`OutageLog`]: a warning per Redis outage rather than one per call, so a cache (or the
//! shared rate limiter) that is down does not flood the log while every call falls back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// At most one warning per this period; the other failures are logged at debug level.
const WARN_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(crate) struct OutageLog {
    /// What is unavailable, e.g. "Redis member cache".
    subject: &'static str,
    /// What answers instead.
    fallback: &'static str,
    started: Instant,
    /// Milliseconds after `started` of the last warning, plus one (0: never warned).
    last_warning: AtomicU64,
}

impl OutageLog {
    /// The log of the member caches, which fall back to the community directory.
    pub(crate) fn new() -> Self {
        Self::with_fallback(
            "Redis member cache",
            "answering from the community directory",
        )
    }

    /// The log of `subject`, which falls back to `fallback` while Redis is away.
    pub(crate) fn with_fallback(subject: &'static str, fallback: &'static str) -> Self {
        Self {
            subject,
            fallback,
            started: Instant::now(),
            last_warning: AtomicU64::new(0),
        }
    }

    /// Logs that `what` failed and the call fell back.
    pub(crate) fn failed(&self, what: &str, error: &anyhow::Error) {
        let now = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last_warning.load(Ordering::Relaxed);
        let due = last == 0
            || now.saturating_sub(last) >= u64::try_from(WARN_EVERY.as_millis()).unwrap_or(0);
        if due
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error = format!("{error:#}"),
                "{} unavailable ({what}): {} (repeats within {WARN_EVERY:?} are logged at debug level)",
                self.subject,
                self.fallback
            );
        } else {
            tracing::debug!(
                error = format!("{error:#}"),
                "{} unavailable ({what})",
                self.subject
            );
        }
    }
}

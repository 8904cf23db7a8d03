//! Answers given without the auth service: each one is counted in
//! `chat_dependency_degraded_total{dependency="auth_service"}`, and logged as a warning at most
//! once per [`WARN_EVERY`] (every message of every user would otherwise log one during an outage).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use domain::UserId;
use metric_names::Dependency;

/// How often a degraded answer is logged as a warning; the others are logged at debug level.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Counts degraded answers and rate-limits their warnings.
#[derive(Debug, Default)]
pub(crate) struct Degraded {
    last_warning: Mutex<Option<Instant>>,
    /// Degraded answers since the last warning.
    unreported: AtomicU64,
}

impl Degraded {
    /// Records one profile answered from `fallback` because of `error`.
    pub(crate) fn record(&self, user: UserId, fallback: &'static str, error: &str) {
        metric_names::dependency_degraded(Dependency::AuthService).increment(1);
        self.unreported.fetch_add(1, Ordering::Relaxed);
        let due = {
            let mut last = self
                .last_warning
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let due = last.is_none_or(|at| at.elapsed() >= WARN_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            let answers = self.unreported.swap(0, Ordering::Relaxed);
            tracing::warn!(
                %user,
                fallback,
                error,
                degraded_answers = answers,
                "auth service unavailable: answering profiles without it (warned at most every 10 s)"
            );
        } else {
            tracing::debug!(%user, fallback, error, "auth service unavailable: profile from {fallback}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_of_a_burst_is_due_for_a_warning() {
        let degraded = Degraded::default();
        degraded.record(UserId::new(1), "the token", "down");
        assert_eq!(degraded.unreported.load(Ordering::Relaxed), 0);
        degraded.record(UserId::new(1), "the token", "down");
        degraded.record(UserId::new(2), "the token", "down");
        assert_eq!(degraded.unreported.load(Ordering::Relaxed), 2);
    }
}

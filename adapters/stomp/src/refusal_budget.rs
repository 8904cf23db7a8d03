//! How many refusals one session may provoke, and how many of them are logged.
//!
//! A client that keeps sending what the server refuses costs a log line and a
//! reply each time. Per session, only the first [`LOGGED_PER_SESSION`] refusals
//! are logged (the rest are counted and summed up when the session ends), and
//! refusals spend a token bucket: a session that empties it is closed.

use tokio::time::Instant;

/// Refusals of one session that are logged one by one.
pub(crate) const LOGGED_PER_SESSION: u32 = 10;

/// The longest part of a client-chosen text (a destination) that is logged or
/// quoted back.
pub(crate) const QUOTED_CHARS: usize = 128;

/// `text` cut to [`QUOTED_CHARS`] characters, marked with `…` when cut.
pub(crate) fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// One session's allowance of refusals.
#[derive(Debug)]
pub(crate) struct RefusalBudget {
    burst: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
    logged: u32,
    unlogged: u64,
}

/// What to do with one more refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Log it (one of the session's first refusals).
    pub(crate) log: bool,
    /// The session has provoked too many: close it.
    pub(crate) exhausted: bool,
}

impl RefusalBudget {
    /// `burst` refusals at once (0 = no limit), refilled at `per_second`.
    pub(crate) fn new(burst: u32, per_second: f64) -> Self {
        Self {
            burst: f64::from(burst),
            per_second: per_second.max(0.0),
            tokens: f64::from(burst),
            updated: Instant::now(),
            logged: 0,
            unlogged: 0,
        }
    }

    /// Spends one refusal.
    pub(crate) fn spend(&mut self) -> Verdict {
        let log = self.logged < LOGGED_PER_SESSION;
        if log {
            self.logged += 1;
        } else {
            self.unlogged += 1;
        }
        if self.burst <= 0.0 {
            return Verdict {
                log,
                exhausted: false,
            };
        }
        let now = Instant::now();
        let refill = now.duration_since(self.updated).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.updated = now;
        self.tokens -= 1.0;
        Verdict {
            log,
            exhausted: self.tokens < 0.0,
        }
    }

    /// Refusals spent but not logged one by one.
    pub(crate) fn unlogged(&self) -> u64 {
        self.unlogged
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_refusals_is_tolerated_and_one_more_exhausts_the_budget() {
        let mut budget = RefusalBudget::new(3, 1.0);
        for _ in 0..3 {
            assert!(!budget.spend().exhausted);
        }
        assert!(budget.spend().exhausted);
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_at_the_sustained_rate_never_exhaust_it() {
        let mut budget = RefusalBudget::new(2, 1.0);
        for _ in 0..100 {
            assert!(!budget.spend().exhausted);
            tokio::time::advance(Duration::from_secs(1)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_first_refusals_are_logged_and_the_rest_counted() {
        let mut budget = RefusalBudget::new(0, 0.0);
        let logged = (0..25).filter(|_| budget.spend().log).count();
        assert_eq!(logged, LOGGED_PER_SESSION as usize);
        assert_eq!(budget.unlogged(), 25 - u64::from(LOGGED_PER_SESSION));
    }

    #[test]
    fn a_long_destination_is_quoted_short_and_marked() {
        let long = "/x".repeat(4096);
        let quoted = quoted(&long);
        assert_eq!(quoted.chars().count(), QUOTED_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(super::quoted("/kafka/send"), "/kafka/send");
        let wide = "é".repeat(200);
        assert_eq!(super::quoted(&wide).chars().count(), QUOTED_CHARS + 1);
    }
}

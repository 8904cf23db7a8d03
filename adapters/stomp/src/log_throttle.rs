//! A log line written at most once per interval, however often the thing it reports
//! happens: a storm of refused connections costs one line a second (with the count of
//! the lines left out), not one line per connection.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a throttled line may be written.
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct State {
    last_written: Option<Instant>,
    suppressed: u64,
}

/// When the next line of one kind may be written, and how many were left out.
#[derive(Debug)]
pub(crate) struct LogThrottle {
    every: Duration,
    state: Mutex<State>,
}

impl LogThrottle {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            every,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether a line is due now: `Some(n)` with the `n` occurrences left out since the
    /// last line written (the caller writes one now), `None` when this one is left out.
    pub(crate) fn admit(&self) -> Option<u64> {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = state
            .last_written
            .is_none_or(|last| now.saturating_duration_since(last) >= self.every);
        if due {
            state.last_written = Some(now);
            Some(std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_is_written_and_the_next_ones_within_the_interval_are_counted() {
        let throttle = LogThrottle::new(Duration::from_secs(1));
        let start = Instant::now();

        assert_eq!(throttle.admit_at(start), Some(0));
        for ms in [1, 10, 500, 999] {
            assert_eq!(throttle.admit_at(start + Duration::from_millis(ms)), None);
        }

        assert_eq!(
            throttle.admit_at(start + Duration::from_secs(1)),
            Some(4),
            "the next line says how many were left out"
        );
        assert_eq!(throttle.admit_at(start + Duration::from_secs(5)), Some(0));
    }
}

//! The hub as the `DeliveryBacklog` port: a room's delivery is behind when at least half
//! of its local subscribers' queues are past their high-water mark, or when every queue
//! together holds more than half the budget.
//!
//! Half, not one: a single client reading slower than the rest must not slow a whole room
//! (its queue overflows, it gets a gap and, if it keeps overflowing, is a slow consumer),
//! while a room whose readers are mostly behind means the server itself is short of time to
//! write, and the fair answer is to take less in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use application::ports::outbound::DeliveryBacklog;
use domain::Audience;
use metric_names::stomp as metric;
use tokio::time::Instant;

use crate::hub::SubscriptionHub;

/// How often a waiting SEND looks again even without a catch-up signal (a subscriber that
/// left, a membership change), so no wait depends on a wake-up alone.
const RECHECK: Duration = Duration::from_millis(50);

/// Seconds (since the process started) of the last "delivery behind" log line: one a second at most.
static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);

impl SubscriptionHub {
    /// Whether delivery to `audience` on this instance is behind.
    pub(crate) fn is_behind(&self, audience: Audience) -> bool {
        if self.budget.is_strained() {
            return true;
        }
        let audiences = self.read();
        let Some(subscribers) = audiences.get(&audience) else {
            return false;
        };
        let behind = subscribers
            .iter()
            .filter(|subscriber| subscriber.load.is_behind())
            .count();
        behind > 0 && behind * 2 >= subscribers.len()
    }
}

fn log_behind(audience: Audience) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let now = START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs()
        + 1;
    if LAST_LOGGED.swap(now, Ordering::Relaxed) != now {
        tracing::warn!(%audience, "delivery is behind: SENDs to the room wait for its subscribers to catch up");
    }
}

#[async_trait::async_trait]
impl DeliveryBacklog for SubscriptionHub {
    async fn wait_for_room(&self, audience: Audience, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        let mut waited = false;
        loop {
            let caught_up = self.budget.caught_up();
            tokio::pin!(caught_up);
            caught_up.as_mut().enable();
            if !self.is_behind(audience) {
                return true;
            }
            if !waited {
                waited = true;
                metrics::counter!(metric::PUBLISHES_DELAYED).increment(1);
                log_behind(audience);
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            tokio::select! {
                () = &mut caught_up => {}
                () = tokio::time::sleep_until(deadline.min(now + RECHECK)) => {}
            }
        }
    }
}

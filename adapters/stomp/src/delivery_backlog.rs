//! The hub as the `DeliveryBacklog` port: a room's delivery is behind while one of its
//! local subscribers' queues is past its high-water mark (and has been for less than
//! `hold_back`), or while every queue together holds more than half the budget.
//!
//! One subscriber behind is enough: under more load than the server can write, the
//! sessions do not drain evenly (a runnable session writes its whole queue before the next
//! gets the core), so waiting for most of a room to be behind would let the rest overflow.
//! But a client that stays behind longer than a SEND may wait reads slower than its room is
//! written; it stops holding the room back and overflows instead (it gets a gap and, if it
//! keeps overflowing, is a slow consumer), so one slow reader cannot stall a room. Unless
//! at least half the room is behind that long too: then the server is the slow one, and the
//! room keeps waiting.

use std::time::Duration;

use application::ports::outbound::DeliveryBacklog;
use domain::Audience;
use metric_names::stomp as metric;
use tokio::time::Instant;

use crate::hub::SubscriptionHub;

/// How often a waiting SEND looks again even without a catch-up signal (a subscriber that
/// left, a membership change), so no wait depends on a wake-up alone.
const RECHECK: Duration = Duration::from_millis(50);

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
        let mut behind = 0;
        for subscriber in subscribers {
            if subscriber.load.holds_back(&self.budget) {
                return true;
            }
            behind += usize::from(subscriber.load.is_behind());
        }
        behind > 0 && behind * 2 >= subscribers.len()
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
                if let Some(unlogged) = self.behind_log.admit() {
                    tracing::warn!(%audience, unlogged, "delivery is behind: SENDs to the room wait for its subscribers to catch up");
                }
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

#[cfg(test)]
mod tests {
    use domain::{PresenceChange, PresenceStatus, RoomId, UserId};

    use application::ports::outbound::RoomBroadcaster as _;

    use super::*;
    use crate::outbound_queue::OutboundLimits;

    const DM: Audience = Audience::Direct(RoomId::new(5));
    const WAIT: Duration = Duration::from_millis(500);

    fn online() -> domain::ChatEvent {
        domain::ChatEvent::Presence(PresenceChange {
            user: UserId::new(1),
            status: PresenceStatus::Online,
            audiences: vec![DM],
        })
    }

    /// A hub whose queues hold 4 frames (behind past 2), held back for at most 2 s.
    fn hub() -> SubscriptionHub {
        SubscriptionHub::new(OutboundLimits {
            frames: 4,
            hold_back: Duration::from_secs(2),
            ..OutboundLimits::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_waits_while_a_reader_of_its_room_is_behind_and_goes_once_it_caught_up() {
        let hub = std::sync::Arc::new(hub());
        let mut reader = hub.open_mailbox();
        hub.subscribe(&reader, "r", DM);
        for _ in 0..3 {
            hub.deliver(&[DM], &online());
        }

        assert!(
            !hub.wait_for_room(DM, WAIT).await,
            "still behind after the wait"
        );
        assert!(
            hub.wait_for_room(Audience::Direct(RoomId::new(6)), WAIT)
                .await,
            "other rooms do not wait"
        );
        let draining = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            reader.next().await;
            reader.next().await;
            reader
        });
        assert!(hub.wait_for_room(DM, WAIT).await, "woken when it caught up");
        drop(draining.await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_behind_for_longer_than_a_send_may_wait_no_longer_holds_its_room_back() {
        let hub = hub();
        let slow = hub.open_mailbox();
        let mut others = [hub.open_mailbox(), hub.open_mailbox()];
        hub.subscribe(&slow, "s", DM);
        for other in &others {
            hub.subscribe(other, "o", DM);
        }
        for _ in 0..3 {
            hub.deliver(&[DM], &online());
            for other in &mut others {
                other.try_next().expect("delivered");
            }
        }

        tokio::time::advance(Duration::from_secs(2)).await;

        assert!(hub.wait_for_room(DM, Duration::ZERO).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_room_mostly_behind_for_long_keeps_waiting_the_server_is_the_slow_one() {
        let hub = hub();
        let readers = [hub.open_mailbox(), hub.open_mailbox()];
        for reader in &readers {
            hub.subscribe(reader, "r", DM);
        }
        for _ in 0..3 {
            hub.deliver(&[DM], &online());
        }

        tokio::time::advance(Duration::from_secs(5)).await;

        assert!(!hub.wait_for_room(DM, Duration::ZERO).await);
    }
}

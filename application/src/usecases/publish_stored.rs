//! Publishing the event of a change that is already stored. Giving up would leave a
//! stored message that nobody hears live, and refuse a send that did take effect, so a
//! failed publish is retried a few times, briefly, before the use case refuses
//! `Unavailable`. Every use case that stores then publishes goes through here.

use std::time::Duration;

use domain::ChatEvent;

use crate::ports::outbound::{BusError, EventBus};

/// The waits before the second, third and fourth attempt: 1.05 s of waiting in all, on
/// top of each attempt's own bound (the bus adapter's timeout).
pub(crate) const PUBLISH_BACKOFF: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(200),
    Duration::from_millis(800),
];

/// Publishes `event`, retrying a failed publish after each wait of [`PUBLISH_BACKOFF`].
///
/// A retry after a timeout may publish the event twice (the first attempt may have landed
/// unacknowledged); both copies carry the same `seq`, which delivery recognises.
///
/// # Errors
/// The last attempt's [`BusError`] when every attempt failed.
pub(crate) async fn publish_stored(bus: &dyn EventBus, event: &ChatEvent) -> Result<(), BusError> {
    let mut waits = PUBLISH_BACKOFF.iter();
    let mut attempt = 1;
    loop {
        match bus.publish(event).await {
            Ok(()) => return Ok(()),
            Err(error) => {
                let Some(wait) = waits.next() else {
                    tracing::error!(
                        seq = ?event.seq(),
                        attempts = attempt,
                        error = %error,
                        "giving up publishing a stored change"
                    );
                    return Err(error);
                };
                tracing::warn!(
                    seq = ?event.seq(),
                    attempt,
                    retry_in_ms = wait.as_millis(),
                    error = %error,
                    "publishing a stored change failed; retrying"
                );
                tokio::time::sleep(*wait).await;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use domain::ChatEvent;

    use super::*;
    use crate::ports::outbound::MockEventBus;
    use crate::usecases::test_support::{ALICE, DM, stored};

    fn event() -> ChatEvent {
        ChatEvent::Posted(stored("000000000000000000000042", ALICE, DM, "hi"))
    }

    fn bus_down() -> BusError {
        BusError::Unavailable(anyhow::anyhow!("broker not available"))
    }

    /// A bus that fails its first `failures` publishes, counting every attempt.
    fn failing_first(failures: usize) -> (MockEventBus, Arc<AtomicUsize>) {
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&attempts);
        let mut bus = MockEventBus::new();
        bus.expect_publish().returning(move |_| {
            if counted.fetch_add(1, Ordering::SeqCst) < failures {
                Err(bus_down())
            } else {
                Ok(())
            }
        });
        (bus, attempts)
    }

    #[tokio::test(start_paused = true)]
    async fn a_publish_that_succeeds_at_once_is_made_once() {
        let (bus, attempts) = failing_first(0);

        publish_stored(&bus, &event()).await.expect("published");

        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_publish_is_retried_until_the_bus_takes_it() {
        let (bus, attempts) = failing_first(3);
        let started = tokio::time::Instant::now();

        publish_stored(&bus, &event()).await.expect("published");

        assert_eq!(attempts.load(Ordering::SeqCst), 4);
        // Paused time: the waits are exactly the schedule's, whatever the machine.
        assert_eq!(started.elapsed(), PUBLISH_BACKOFF.iter().sum::<Duration>());
    }

    #[tokio::test(start_paused = true)]
    async fn after_four_failed_attempts_the_publish_gives_up_with_the_bus_error() {
        let (bus, attempts) = failing_first(usize::MAX);

        let error = publish_stored(&bus, &event()).await;

        assert!(matches!(error, Err(BusError::Unavailable(_))), "{error:?}");
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
    }
}

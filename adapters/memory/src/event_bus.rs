//! An in-process event bus: every subscriber of this process gets every event.
//!
//! Each subscriber has a bounded queue, and a publish waits (at most [`PUBLISH_TIMEOUT`])
//! for room in every subscriber's queue: a subscriber that is behind (the delivery task,
//! short of time under a flood) slows the publishers down instead of losing events, so
//! back-pressure reaches the SENDs and their sockets. A subscriber whose stream was dropped
//! is forgotten.

use std::sync::Mutex;
use std::time::Duration;

use application::ports::outbound::{BusError, EventBus, EventStream};
use domain::ChatEvent;
use futures::StreamExt as _;
use tokio::sync::mpsc;

/// Events queued for a subscriber that is behind before publishers wait for it. Small: what
/// waits here has passed the delivery pace already (see `PacePublish`) and lands in the
/// subscribers' outbound queues at once when delivered, so it must fit within their
/// headroom above the high-water mark.
const CAPACITY: usize = 256;

/// The longest a publish waits for a subscriber that is behind before it fails.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded event bus, over one bounded channel per subscriber.
#[derive(Debug, Default)]
pub struct MemoryEventBus {
    subscribers: Mutex<Vec<mpsc::Sender<ChatEvent>>>,
}

impl MemoryEventBus {
    fn subscribers(&self) -> Vec<mpsc::Sender<ChatEvent>> {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        subscribers.retain(|sender| !sender.is_closed());
        subscribers.clone()
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, event: &ChatEvent) -> Result<(), BusError> {
        // No subscriber is not an error: the event was accepted, nobody listens yet.
        for subscriber in self.subscribers() {
            match tokio::time::timeout(PUBLISH_TIMEOUT, subscriber.send(event.clone())).await {
                Ok(_) => {}
                Err(_) => {
                    return Err(BusError::Unavailable(anyhow::anyhow!(
                        "an event subscriber took nothing for {PUBLISH_TIMEOUT:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    fn subscribe(&self) -> Result<EventStream, BusError> {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        self.subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(sender);
        Ok(stream_of(receiver))
    }
}

fn stream_of(receiver: mpsc::Receiver<ChatEvent>) -> EventStream {
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (event, receiver))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use domain::{PresenceChange, PresenceStatus, UserId};

    use super::*;

    fn event(user: u64) -> ChatEvent {
        ChatEvent::Presence(PresenceChange {
            user: UserId::new(user),
            status: PresenceStatus::Online,
            audiences: vec![],
        })
    }

    #[tokio::test]
    async fn every_subscriber_receives_every_event_in_order() {
        let bus = MemoryEventBus::default();
        let mut first = bus.subscribe().expect("subscribed");
        let mut second = bus.subscribe().expect("subscribed");

        bus.publish(&event(1)).await.expect("published");
        bus.publish(&event(2)).await.expect("published");

        for stream in [&mut first, &mut second] {
            assert_eq!(stream.next().await, Some(event(1)));
            assert_eq!(stream.next().await, Some(event(2)));
        }
    }

    #[tokio::test]
    async fn publishing_without_subscribers_succeeds() {
        assert!(MemoryEventBus::default().publish(&event(1)).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_subscriber_behind_makes_publishers_wait_instead_of_losing_events() {
        let bus = std::sync::Arc::new(MemoryEventBus::default());
        let mut stream = bus.subscribe().expect("subscribed");
        for n in 0..CAPACITY as u64 {
            bus.publish(&event(n)).await.expect("room");
        }

        let publishing = tokio::spawn({
            let bus = bus.clone();
            async move { bus.publish(&event(9999)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!publishing.is_finished(), "it waits for the subscriber");
        assert_eq!(stream.next().await, Some(event(0)));

        assert!(publishing.await.expect("ran").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_subscriber_that_takes_nothing_fails_the_publish_after_the_timeout() {
        let bus = MemoryEventBus::default();
        let _stuck = bus.subscribe().expect("subscribed");
        for n in 0..CAPACITY as u64 {
            bus.publish(&event(n)).await.expect("room");
        }

        assert!(bus.publish(&event(9999)).await.is_err());
    }

    #[tokio::test]
    async fn a_dropped_subscriber_is_forgotten() {
        let bus = MemoryEventBus::default();
        drop(bus.subscribe().expect("subscribed"));

        assert!(bus.publish(&event(1)).await.is_ok());
        assert!(bus.subscribers().is_empty());
    }
}

//! An in-process event bus: every subscriber of this process gets every event.

use application::ports::outbound::{BusError, EventBus, EventStream};
use domain::ChatEvent;
use futures::StreamExt as _;
use tokio::sync::broadcast;

/// Events buffered for a subscriber that is behind before it starts losing them.
const CAPACITY: usize = 4096;

/// The embedded event bus, over a tokio broadcast channel.
#[derive(Debug)]
pub struct MemoryEventBus {
    sender: broadcast::Sender<ChatEvent>,
}

impl Default for MemoryEventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, event: &ChatEvent) -> Result<(), BusError> {
        // No subscriber is not an error: the event was accepted, nobody listens yet.
        let _ = self.sender.send(event.clone());
        Ok(())
    }

    fn subscribe(&self) -> Result<EventStream, BusError> {
        let receiver = self.sender.subscribe();
        Ok(
            futures::stream::unfold(receiver, |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) => return Some((event, receiver)),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::error!(missed, "event subscriber fell behind; events lost");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            })
            .boxed(),
        )
    }
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
}

//! The subscription hub: which local connection listens to which audience, and
//! delivery of bus events to them.
//!
//! Delivery policy: each event is serialised once; every subscriber gets a cheap
//! handle to the same bytes on its connection's bounded queue. Delivery never
//! waits: a connection whose queue is full is a slow consumer and is told to
//! close (its client reconnects and catches up), so one slow client never
//! slows the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use application::ports::outbound::RoomBroadcaster;
use bytes::Bytes;
use domain::{Audience, ChatEvent};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::destination::audience_destination;
use crate::event_json::event_body;

/// Identifies one connection inside the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ConnectionId(u64);

/// A MESSAGE frame to write, minus the per-connection headers.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) destination: Arc<str>,
    pub(crate) subscription: Arc<str>,
    pub(crate) body: Bytes,
}

#[derive(Debug, Clone)]
struct Subscriber {
    connection: ConnectionId,
    subscription: Arc<str>,
    queue: mpsc::Sender<Delivery>,
    overflow: CancellationToken,
}

/// The local subscribers of every audience; implements the `RoomBroadcaster` port.
#[derive(Debug, Default)]
pub struct SubscriptionHub {
    audiences: RwLock<HashMap<Audience, Vec<Subscriber>>>,
    next_connection: AtomicU64,
}

/// What a connection needs to receive deliveries.
pub(crate) struct Mailbox {
    pub(crate) id: ConnectionId,
    pub(crate) queue: mpsc::Sender<Delivery>,
    pub(crate) deliveries: mpsc::Receiver<Delivery>,
    /// Cancelled when the queue overflowed.
    pub(crate) overflow: CancellationToken,
}

impl SubscriptionHub {
    /// A mailbox for a new connection with room for `capacity` pending frames.
    pub(crate) fn open_mailbox(&self, capacity: usize) -> Mailbox {
        let (queue, deliveries) = mpsc::channel(capacity.max(1));
        Mailbox {
            id: ConnectionId(self.next_connection.fetch_add(1, Ordering::Relaxed)),
            queue,
            deliveries,
            overflow: CancellationToken::new(),
        }
    }

    /// Starts delivering `audience` to the mailbox under `subscription`.
    pub(crate) fn subscribe(&self, mailbox: &Mailbox, subscription: &str, audience: Audience) {
        let subscriber = Subscriber {
            connection: mailbox.id,
            subscription: Arc::from(subscription),
            queue: mailbox.queue.clone(),
            overflow: mailbox.overflow.clone(),
        };
        self.write().entry(audience).or_default().push(subscriber);
    }

    /// Stops one subscription of a connection.
    pub(crate) fn unsubscribe(
        &self,
        connection: ConnectionId,
        subscription: &str,
        audience: Audience,
    ) {
        let mut audiences = self.write();
        if let Some(subscribers) = audiences.get_mut(&audience) {
            subscribers
                .retain(|s| !(s.connection == connection && &*s.subscription == subscription));
            if subscribers.is_empty() {
                audiences.remove(&audience);
            }
        }
    }

    /// Forgets every subscription of a closed connection.
    pub(crate) fn close(
        &self,
        connection: ConnectionId,
        audiences: impl IntoIterator<Item = Audience>,
    ) {
        let mut map = self.write();
        for audience in audiences {
            if let Some(subscribers) = map.get_mut(&audience) {
                subscribers.retain(|s| s.connection != connection);
                if subscribers.is_empty() {
                    map.remove(&audience);
                }
            }
        }
    }

    /// Local subscriptions in total, for metrics and tests.
    pub fn subscription_count(&self) -> usize {
        self.read().values().map(Vec::len).sum()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Audience, Vec<Subscriber>>> {
        self.audiences
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Audience, Vec<Subscriber>>> {
        self.audiences
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl RoomBroadcaster for SubscriptionHub {
    fn deliver(&self, audiences: &[Audience], event: &ChatEvent) {
        let body = event_body(event);
        let map = self.read();
        for audience in audiences {
            let Some(subscribers) = map.get(audience) else {
                continue;
            };
            let destination: Arc<str> = Arc::from(audience_destination(*audience));
            for subscriber in subscribers {
                let delivery = Delivery {
                    destination: destination.clone(),
                    subscription: subscriber.subscription.clone(),
                    body: body.clone(),
                };
                match subscriber.queue.try_send(delivery) {
                    Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        if !subscriber.overflow.is_cancelled() {
                            tracing::warn!(%audience, "slow consumer: outbound queue full, disconnecting it");
                        }
                        subscriber.overflow.cancel();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::{PresenceChange, PresenceStatus, RoomId, UserId};

    use super::*;

    const DM: Audience = Audience::Direct(RoomId::new(5));

    fn presence() -> ChatEvent {
        ChatEvent::Presence(PresenceChange {
            user: UserId::new(1),
            status: PresenceStatus::Online,
            audiences: vec![DM],
        })
    }

    #[tokio::test]
    async fn every_subscriber_gets_the_same_serialised_bytes() {
        let hub = SubscriptionHub::default();
        let mut first = hub.open_mailbox(8);
        let mut second = hub.open_mailbox(8);
        hub.subscribe(&first, "sub-0", DM);
        hub.subscribe(&second, "sub-7", DM);

        hub.deliver(&[DM], &presence());

        let a = first.deliveries.recv().await.expect("delivered");
        let b = second.deliveries.recv().await.expect("delivered");
        assert_eq!(a.body.as_ptr(), b.body.as_ptr(), "serialised once, shared");
        assert_eq!(&*a.destination, "/topic/direct/5");
        assert_eq!(&*b.subscription, "sub-7");
    }

    #[tokio::test]
    async fn a_full_queue_marks_only_that_connection_as_a_slow_consumer() {
        let hub = SubscriptionHub::default();
        let slow = hub.open_mailbox(1);
        let mut fast = hub.open_mailbox(8);
        hub.subscribe(&slow, "s", DM);
        hub.subscribe(&fast, "f", DM);

        hub.deliver(&[DM], &presence());
        hub.deliver(&[DM], &presence());

        assert!(slow.overflow.is_cancelled());
        assert!(!fast.overflow.is_cancelled());
        assert!(fast.deliveries.recv().await.is_some());
        assert!(fast.deliveries.recv().await.is_some());
    }

    #[tokio::test]
    async fn an_unsubscribed_or_closed_connection_gets_nothing() {
        let hub = SubscriptionHub::default();
        let mut gone = hub.open_mailbox(8);
        let mut left = hub.open_mailbox(8);
        hub.subscribe(&gone, "g", DM);
        hub.subscribe(&left, "l", DM);
        hub.close(gone.id, [DM]);
        hub.unsubscribe(left.id, "l", DM);

        hub.deliver(&[DM], &presence());

        assert!(gone.deliveries.try_recv().is_err());
        assert!(left.deliveries.try_recv().is_err());
        assert_eq!(hub.subscription_count(), 0);
    }
}

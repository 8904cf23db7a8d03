//! The subscription hub: which local connection listens to which audience, and
//! delivery of bus events to them.
//!
//! Delivery policy: each event is serialised once; every subscriber gets a cheap
//! handle to the same bytes on its connection's bounded queue. Delivery never
//! waits: a connection whose queue is full is a slow consumer and is told to
//! close (its client reconnects and catches up), so one slow client never
//! slows the others.
//!
//! Membership changes: when a member list is set on this instance, the hub marks
//! the connections listening to that group, which then authorise their
//! subscriptions again (see `session`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use application::ports::outbound::RoomBroadcaster;
use bytes::Bytes;
use domain::{Audience, ChatEvent, Seq};
use metric_names::stomp as metric;
use tokio::sync::{Notify, mpsc};
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
    /// The room event's seq (none for typing, presence, voice), so a resumed
    /// subscription can drop what its replay already sent.
    pub(crate) seq: Option<Seq>,
}

#[derive(Debug, Clone)]
struct Subscriber {
    connection: ConnectionId,
    subscription: Arc<str>,
    queue: mpsc::Sender<Delivery>,
    overflow: CancellationToken,
    membership: Arc<MembershipSignal>,
}

/// Member lists that changed since a connection last looked: the groups whose
/// subscriptions it must authorise again.
#[derive(Debug, Default)]
pub(crate) struct MembershipSignal {
    changed: Mutex<HashSet<Audience>>,
    notify: Notify,
}

impl MembershipSignal {
    fn mark(&self, group: Audience) {
        self.changed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(group);
        self.notify.notify_one();
    }

    /// Waits until a group is marked, then takes every marked one. Cancel-safe.
    pub(crate) async fn changed(&self) -> HashSet<Audience> {
        loop {
            let taken = std::mem::take(
                &mut *self
                    .changed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if !taken.is_empty() {
                return taken;
            }
            self.notify.notified().await;
        }
    }
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
    /// Groups whose member lists changed.
    pub(crate) membership: Arc<MembershipSignal>,
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
            membership: Arc::default(),
        }
    }

    /// Starts delivering `audience` to the mailbox under `subscription`.
    pub(crate) fn subscribe(&self, mailbox: &Mailbox, subscription: &str, audience: Audience) {
        let subscriber = Subscriber {
            connection: mailbox.id,
            subscription: Arc::from(subscription),
            queue: mailbox.queue.clone(),
            overflow: mailbox.overflow.clone(),
            membership: mailbox.membership.clone(),
        };
        self.write().entry(audience).or_default().push(subscriber);
        metrics::gauge!(metric::SUBSCRIPTIONS).increment(1.0);
    }

    /// Stops one subscription of a connection.
    pub(crate) fn unsubscribe(
        &self,
        connection: ConnectionId,
        subscription: &str,
        audience: Audience,
    ) {
        let gauge = metrics::gauge!(metric::SUBSCRIPTIONS);
        let mut audiences = self.write();
        if let Some(subscribers) = audiences.get_mut(&audience) {
            subscribers.retain(|s| {
                let keep = !(s.connection == connection && &*s.subscription == subscription);
                if !keep {
                    gauge.decrement(1.0);
                }
                keep
            });
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
        let gauge = metrics::gauge!(metric::SUBSCRIPTIONS);
        let mut map = self.write();
        for audience in audiences {
            if let Some(subscribers) = map.get_mut(&audience) {
                subscribers.retain(|s| {
                    let keep = s.connection != connection;
                    if !keep {
                        gauge.decrement(1.0);
                    }
                    keep
                });
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
        let seq = event.seq();
        let mut delivered: u64 = 0;
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
                    seq,
                };
                match subscriber.queue.try_send(delivery) {
                    Ok(()) => delivered += 1,
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        if !subscriber.overflow.is_cancelled() {
                            tracing::warn!(%audience, "slow consumer: outbound queue full, disconnecting it");
                            metrics::counter!(metric::SLOW_CONSUMERS).increment(1);
                        }
                        subscriber.overflow.cancel();
                    }
                }
            }
        }
        drop(map);
        metrics::counter!(metric::EVENTS_DELIVERED).increment(delivered);
    }

    /// Marks the change on every connection listening to `group`; a community's
    /// change also reaches every channel subscriber, as the hub does not know which
    /// channels are the community's (the connections ask the directory).
    fn membership_changed(&self, group: Audience) {
        let map = self.read();
        let affected = map.iter().filter(|(audience, _)| {
            **audience == group
                || (matches!(group, Audience::Community(_))
                    && matches!(audience, Audience::Group(_)))
        });
        for (_, subscribers) in affected {
            for subscriber in subscribers {
                subscriber.membership.mark(group);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::{PresenceChange, PresenceStatus, RoomId, UserId};
    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

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

    #[tokio::test(start_paused = true)]
    async fn a_member_list_change_reaches_only_the_connections_that_may_be_affected() {
        let community = Audience::Community(domain::CommunityId::new(3));
        let channel = Audience::Group(domain::ChannelId::new(30));
        let hub = SubscriptionHub::default();
        let in_dm = hub.open_mailbox(8);
        let in_channel = hub.open_mailbox(8);
        let elsewhere = hub.open_mailbox(8);
        hub.subscribe(&in_dm, "d", DM);
        hub.subscribe(&in_channel, "c", channel);
        hub.subscribe(&elsewhere, "o", Audience::Direct(RoomId::new(6)));

        hub.membership_changed(DM);
        hub.membership_changed(community);

        assert_eq!(in_dm.membership.changed().await, HashSet::from([DM]));
        assert_eq!(
            in_channel.membership.changed().await,
            HashSet::from([community])
        );
        let nothing = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            elsewhere.membership.changed(),
        )
        .await;
        assert!(nothing.is_err(), "{nothing:?}");
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

    /// Counter and gauge values by metric name (labels ignored), for
    /// `metrics::with_local_recorder`.
    #[derive(Default)]
    struct Recorded {
        counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
        gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
    }

    impl Recorded {
        fn cell(cells: &Mutex<HashMap<String, Arc<AtomicU64>>>, name: &str) -> Arc<AtomicU64> {
            cells
                .lock()
                .unwrap()
                .entry(name.to_owned())
                .or_default()
                .clone()
        }

        fn counter(&self, name: &str) -> u64 {
            Self::cell(&self.counters, name).load(Ordering::Acquire)
        }

        fn gauge(&self, name: &str) -> f64 {
            f64::from_bits(Self::cell(&self.gauges, name).load(Ordering::Acquire))
        }
    }

    impl Recorder for Recorded {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(Self::cell(&self.counters, key.name()))
        }

        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(Self::cell(&self.gauges, key.name()))
        }

        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    #[allow(clippy::float_cmp, reason = "whole numbers are exact in f64")]
    fn the_subscription_gauge_follows_subscribes_unsubscribes_and_closes() {
        let recorded = Recorded::default();
        metrics::with_local_recorder(&recorded, || {
            let hub = SubscriptionHub::default();
            let leaving = hub.open_mailbox(8);
            let staying = hub.open_mailbox(8);
            hub.subscribe(&leaving, "a", DM);
            hub.subscribe(&leaving, "b", Audience::Direct(RoomId::new(6)));
            hub.subscribe(&staying, "c", DM);
            assert_eq!(recorded.gauge(metric::SUBSCRIPTIONS), 3.0);

            hub.unsubscribe(staying.id, "c", DM);
            hub.unsubscribe(staying.id, "never-subscribed", DM);
            assert_eq!(recorded.gauge(metric::SUBSCRIPTIONS), 2.0);

            hub.close(leaving.id, [DM, Audience::Direct(RoomId::new(6))]);
            assert_eq!(recorded.gauge(metric::SUBSCRIPTIONS), 0.0);
            assert_eq!(hub.subscription_count(), 0);
        });
    }

    #[test]
    fn queued_messages_are_counted_and_a_slow_consumer_only_once() {
        let recorded = Recorded::default();
        metrics::with_local_recorder(&recorded, || {
            let hub = SubscriptionHub::default();
            let slow = hub.open_mailbox(1);
            let fast = hub.open_mailbox(8);
            hub.subscribe(&slow, "s", DM);
            hub.subscribe(&fast, "f", DM);

            for _ in 0..3 {
                hub.deliver(&[DM], &presence());
            }

            assert_eq!(
                recorded.counter(metric::EVENTS_DELIVERED),
                4,
                "1 slow + 3 fast"
            );
            assert_eq!(recorded.counter(metric::SLOW_CONSUMERS), 1);
        });
    }
}

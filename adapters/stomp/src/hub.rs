//! The subscription hub: which local connection listens to which audience, and
//! delivery of bus events to them.
//!
//! Delivery policy: each event is serialised once; every subscriber gets a cheap
//! handle to the same bytes on its connection's queue, bounded in frames and bytes and,
//! all queues together, by the instance's budget (`outbound_queue`). Delivery never
//! waits. Instead, the sources wait: a SEND to a room with a subscriber behind waits
//! for it to catch up (`delivery_backlog`), so under more load than the server
//! can write, publishers slow down and readers keep reading. A delivery that does not fit
//! a queue anyway is dropped and announced to its subscription by a `gap` event
//! (`missed_runs`); a connection whose queue keeps overflowing while it does not drain is
//! a slow consumer and is told to close (its client reconnects and catches up).
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
use crate::log_throttle::{LOG_EVERY, LogThrottle};
use crate::missed_runs::{LockedRuns, MissedRun, MissedRuns};
use crate::outbound_queue::{OutboundBudget, OutboundLimits, QueueLoad, Refused, cost};

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
pub(crate) struct Subscriber {
    connection: ConnectionId,
    subscription: Arc<str>,
    queue: mpsc::Sender<Delivery>,
    overflow: CancellationToken,
    membership: Arc<MembershipSignal>,
    pub(crate) load: Arc<QueueLoad>,
    missed: Arc<MissedRuns>,
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

/// The local subscribers of every audience; implements the `RoomBroadcaster` port (and,
/// in `delivery_backlog`, the `DeliveryBacklog` one).
#[derive(Debug)]
pub struct SubscriptionHub {
    audiences: RwLock<HashMap<Audience, Vec<Subscriber>>>,
    next_connection: AtomicU64,
    pub(crate) budget: Arc<OutboundBudget>,
    /// "Delivery is behind" is logged once a second at most.
    pub(crate) behind_log: LogThrottle,
}

impl Default for SubscriptionHub {
    fn default() -> Self {
        Self::new(OutboundLimits::default())
    }
}

/// What a connection needs to receive deliveries.
pub(crate) struct Mailbox {
    pub(crate) id: ConnectionId,
    pub(crate) queue: mpsc::Sender<Delivery>,
    pub(crate) deliveries: mpsc::Receiver<Delivery>,
    /// Cancelled when the queue overflowed for too long.
    pub(crate) overflow: CancellationToken,
    /// Groups whose member lists changed.
    pub(crate) membership: Arc<MembershipSignal>,
    load: Arc<QueueLoad>,
    missed: Arc<MissedRuns>,
    budget: Arc<OutboundBudget>,
}

impl Mailbox {
    /// Waits for the next delivery and takes it off the queue's counts.
    pub(crate) async fn next(&mut self) -> Option<Delivery> {
        let delivery = self.deliveries.recv().await?;
        self.load.taken(&self.budget, cost(&delivery));
        Some(delivery)
    }

    /// With the queue empty, the gaps of runs missed meanwhile: nothing queued comes
    /// before them any more.
    pub(crate) fn gaps_due(&self) -> Vec<Delivery> {
        if !self.missed.pending() {
            return Vec::new();
        }
        let mut runs = self.missed.lock();
        if !self.deliveries.is_empty() {
            return Vec::new();
        }
        runs.take_all().iter().map(MissedRun::notice).collect()
    }
}

#[cfg(test)]
impl Mailbox {
    /// The next delivery if one is queued, taken off the queue's counts.
    pub(crate) fn try_next(&mut self) -> Option<Delivery> {
        let delivery = self.deliveries.try_recv().ok()?;
        self.load.taken(&self.budget, cost(&delivery));
        Some(delivery)
    }
}

impl Drop for Mailbox {
    /// Deliveries left in the queue leave the budget with it.
    fn drop(&mut self) {
        self.deliveries.close();
        while let Ok(delivery) = self.deliveries.try_recv() {
            self.load.taken(&self.budget, cost(&delivery));
        }
        self.load.closed(&self.budget);
    }
}

/// What became of one delivery.
enum Offered {
    Queued,
    Dropped,
    Gone,
}

impl SubscriptionHub {
    /// A hub whose connections' queues have `limits`.
    pub fn new(limits: OutboundLimits) -> Self {
        Self {
            audiences: RwLock::default(),
            next_connection: AtomicU64::new(0),
            budget: Arc::new(OutboundBudget::new(limits)),
            behind_log: LogThrottle::new(LOG_EVERY),
        }
    }

    /// A mailbox for a new connection.
    pub(crate) fn open_mailbox(&self) -> Mailbox {
        let (queue, deliveries) = mpsc::channel(self.budget.limits.frames.max(1));
        Mailbox {
            id: ConnectionId(self.next_connection.fetch_add(1, Ordering::Relaxed)),
            queue,
            deliveries,
            overflow: CancellationToken::new(),
            membership: Arc::default(),
            load: Arc::default(),
            missed: Arc::default(),
            budget: self.budget.clone(),
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
            load: mailbox.load.clone(),
            missed: mailbox.missed.clone(),
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

    pub(crate) fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<Audience, Vec<Subscriber>>> {
        self.audiences
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Audience, Vec<Subscriber>>> {
        self.audiences
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `delivery` to `subscriber`, after the gap of its missed run if it has one.
    fn offer(&self, subscriber: &Subscriber, audience: Audience, delivery: Delivery) -> Offered {
        if !subscriber.missed.pending() {
            return match self.push(subscriber, delivery) {
                Ok(()) => Offered::Queued,
                Err((Refused::Closed, _)) => Offered::Gone,
                Err((refused, seq)) => {
                    let mut runs = subscriber.missed.lock();
                    self.dropped(subscriber, &mut runs, audience, seq, &refused)
                }
            };
        }
        let mut runs = subscriber.missed.lock();
        if let Some(run) = runs.take(&subscriber.subscription)
            && let Err((refused, _)) = self.push(subscriber, run.notice())
        {
            runs.restore(run);
            return self.dropped(subscriber, &mut runs, audience, delivery.seq, &refused);
        }
        match self.push(subscriber, delivery) {
            Ok(()) => Offered::Queued,
            Err((Refused::Closed, _)) => Offered::Gone,
            Err((refused, seq)) => self.dropped(subscriber, &mut runs, audience, seq, &refused),
        }
    }

    /// Queues one delivery, within the queue's and the budget's bounds; refused, the
    /// delivery's seq comes back.
    fn push(
        &self,
        subscriber: &Subscriber,
        delivery: Delivery,
    ) -> Result<(), (Refused, Option<Seq>)> {
        let seq = delivery.seq;
        subscriber
            .load
            .admit(&self.budget, cost(&delivery), || {
                subscriber
                    .queue
                    .try_send(delivery)
                    .map_err(|error| match error {
                        mpsc::error::TrySendError::Full(_) => (Refused::QueueFull, ()),
                        mpsc::error::TrySendError::Closed(_) => (Refused::Closed, ()),
                    })
            })
            .map_err(|(refused, _)| (refused, seq))
    }

    /// A delivery did not fit: a room event joins its subscription's missed run (its gap
    /// follows), and a queue that keeps overflowing makes its connection a slow consumer.
    fn dropped(
        &self,
        subscriber: &Subscriber,
        runs: &mut LockedRuns<'_>,
        audience: Audience,
        seq: Option<Seq>,
        refused: &Refused,
    ) -> Offered {
        metrics::counter!(metric::DELIVERIES_DROPPED).increment(1);
        if let Some(seq) = seq {
            let destination: Arc<str> = Arc::from(audience_destination(audience));
            runs.missed(&subscriber.subscription, &destination, audience, seq);
        }
        if *refused == Refused::QueueFull
            && subscriber.load.overflowed(&self.budget)
            && !subscriber.overflow.is_cancelled()
        {
            tracing::warn!(%audience, "slow consumer: outbound queue overflowing while others drain; disconnecting it");
            metrics::counter!(metric::SLOW_CONSUMERS).increment(1);
            subscriber.overflow.cancel();
        }
        Offered::Dropped
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
                if let Offered::Queued = self.offer(subscriber, *audience, delivery) {
                    delivered += 1;
                }
            }
        }
        drop(map);
        metrics::counter!(metric::EVENTS_DELIVERED).increment(delivered);
    }

    /// Tells every subscriber of `audience` that `from..=to` will not come live: a gap queued
    /// now, or, with its queue full, joined to its missed run (announced once it drains).
    fn skipped(&self, audience: Audience, from: Seq, to: Seq) {
        let map = self.read();
        let Some(subscribers) = map.get(&audience) else {
            return;
        };
        let destination: Arc<str> = Arc::from(audience_destination(audience));
        for subscriber in subscribers {
            let mut runs = subscriber.missed.lock();
            runs.missed(&subscriber.subscription, &destination, audience, from);
            runs.missed(&subscriber.subscription, &destination, audience, to);
            if let Some(run) = runs.take(&subscriber.subscription)
                && self.push(subscriber, run.notice()).is_err()
            {
                runs.restore(run);
            }
        }
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
    use std::time::Duration;

    use domain::{
        MessageBody, MessageId, NewMessage, PresenceChange, PresenceStatus, RoomId, RoomRef,
        Timestamp, UserId, UserProfile,
    };
    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    const DM: Audience = Audience::Direct(RoomId::new(5));

    /// A hub whose queues hold `frames` frames, slow consumers after `slow_consumer`.
    fn hub(frames: usize, slow_consumer: Duration) -> SubscriptionHub {
        SubscriptionHub::new(OutboundLimits {
            frames,
            slow_consumer,
            ..OutboundLimits::default()
        })
    }

    fn posted(seq: u64) -> ChatEvent {
        ChatEvent::Posted(
            NewMessage {
                id: MessageId::parse(&format!("m{seq}")).expect("id"),
                room: RoomRef::Direct(RoomId::new(5)),
                author: UserProfile::anonymous(UserId::new(1)),
                body: MessageBody::parse(&format!("text {seq}")).expect("body"),
                parent: None,
                attachment: None,
                sent_at: Timestamp::from_unix_micros(0),
                client_msg_id: None,
            }
            .stored_at(Seq::new(seq)),
        )
    }

    /// The next delivery's body as JSON, taken off the queue.
    fn next_json(mailbox: &mut Mailbox) -> serde_json::Value {
        let delivery = mailbox.try_next().expect("a delivery");
        serde_json::from_slice(&delivery.body).expect("json")
    }

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
        let mut first = hub.open_mailbox();
        let mut second = hub.open_mailbox();
        hub.subscribe(&first, "sub-0", DM);
        hub.subscribe(&second, "sub-7", DM);

        hub.deliver(&[DM], &presence());

        let a = first.next().await.expect("delivered");
        let b = second.next().await.expect("delivered");
        assert_eq!(a.body.as_ptr(), b.body.as_ptr(), "serialised once, shared");
        assert_eq!(&*a.destination, "/topic/direct/5");
        assert_eq!(&*b.subscription, "sub-7");
    }

    #[test]
    fn a_delivery_that_does_not_fit_is_announced_by_a_gap_before_anything_newer() {
        let hub = hub(2, Duration::from_secs(10));
        let mut mailbox = hub.open_mailbox();
        hub.subscribe(&mailbox, "s", DM);

        for seq in 1..=4 {
            hub.deliver(&[DM], &posted(seq));
        }
        assert_eq!(next_json(&mut mailbox)["seq"], 1);
        hub.deliver(&[DM], &posted(5));

        assert_eq!(next_json(&mut mailbox)["seq"], 2);
        let gap = next_json(&mut mailbox);
        assert_eq!(
            (&gap["type"], &gap["fromSeq"], &gap["toSeq"]),
            (&"gap".into(), &3.into(), &4.into())
        );
        assert!(mailbox.try_next().is_none(), "5 did not fit after the gap");
        let last = mailbox.gaps_due();
        assert_eq!(
            last.len(),
            1,
            "with the queue empty, its gap is due at once"
        );
        let gap: serde_json::Value = serde_json::from_slice(&last[0].body).expect("json");
        assert_eq!((&gap["fromSeq"], &gap["toSeq"]), (&5.into(), &5.into()));
        assert!(mailbox.gaps_due().is_empty(), "each gap once");
    }

    #[test]
    fn skipped_seqs_reach_every_subscriber_of_the_room_as_a_gap() {
        let hub = hub(8, Duration::from_secs(10));
        let mut mailbox = hub.open_mailbox();
        hub.subscribe(&mailbox, "s", DM);

        hub.skipped(DM, Seq::new(3), Seq::new(4));
        hub.deliver(&[DM], &posted(5));

        let gap = next_json(&mut mailbox);
        assert_eq!(
            (&gap["type"], &gap["fromSeq"], &gap["toSeq"]),
            (&"gap".into(), &3.into(), &4.into())
        );
        assert_eq!(next_json(&mut mailbox)["seq"], 5);
    }

    #[test]
    fn a_gap_waits_for_what_was_queued_before_it() {
        let hub = hub(1, Duration::from_secs(10));
        let mut mailbox = hub.open_mailbox();
        hub.subscribe(&mailbox, "s", DM);
        hub.deliver(&[DM], &posted(1));
        hub.deliver(&[DM], &posted(2));

        assert!(mailbox.gaps_due().is_empty(), "1 is still queued");
        assert_eq!(next_json(&mut mailbox)["seq"], 1);
        assert_eq!(mailbox.gaps_due().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_queue_that_keeps_overflowing_without_draining_is_a_slow_consumer() {
        let hub = hub(1, Duration::from_secs(5));
        let slow = hub.open_mailbox();
        let mut fast = hub.open_mailbox();
        hub.subscribe(&slow, "s", DM);
        hub.subscribe(&fast, "f", DM);

        hub.deliver(&[DM], &presence());
        fast.try_next().expect("delivered");
        hub.deliver(&[DM], &presence());
        assert!(
            !slow.overflow.is_cancelled(),
            "one overflow is not yet slow"
        );
        fast.try_next().expect("delivered");
        tokio::time::advance(Duration::from_secs(6)).await;
        hub.deliver(&[DM], &presence());

        assert!(slow.overflow.is_cancelled());
        assert!(!fast.overflow.is_cancelled());
        assert!(fast.try_next().is_some());
    }

    #[test]
    fn a_closed_mailbox_gives_what_it_held_back_to_the_budget() {
        let hub = hub(8, Duration::from_secs(10));
        let mailbox = hub.open_mailbox();
        hub.subscribe(&mailbox, "s", DM);
        hub.deliver(&[DM], &posted(1));
        assert!(hub.budget.queued_bytes() > 0);

        hub.close(mailbox.id, [DM]);
        drop(mailbox);

        assert_eq!(hub.budget.queued_bytes(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_member_list_change_reaches_only_the_connections_that_may_be_affected() {
        let community = Audience::Community(domain::CommunityId::new(3));
        let channel = Audience::Group(domain::ChannelId::new(30));
        let hub = SubscriptionHub::default();
        let in_dm = hub.open_mailbox();
        let in_channel = hub.open_mailbox();
        let elsewhere = hub.open_mailbox();
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
        let mut gone = hub.open_mailbox();
        let mut left = hub.open_mailbox();
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
            let leaving = hub.open_mailbox();
            let staying = hub.open_mailbox();
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
    #[allow(clippy::float_cmp, reason = "whole numbers are exact in f64")]
    fn queued_and_dropped_deliveries_and_a_slow_consumer_are_counted_once_each() {
        let recorded = Recorded::default();
        metrics::with_local_recorder(&recorded, || {
            let hub = hub(1, Duration::ZERO);
            let slow = hub.open_mailbox();
            let mut fast = hub.open_mailbox();
            hub.subscribe(&slow, "s", DM);
            hub.subscribe(&fast, "f", DM);

            for _ in 0..3 {
                hub.deliver(&[DM], &presence());
                fast.try_next().expect("delivered");
            }

            assert_eq!(
                recorded.counter(metric::EVENTS_DELIVERED),
                4,
                "1 slow + 3 fast"
            );
            assert_eq!(recorded.counter(metric::DELIVERIES_DROPPED), 2);
            assert_eq!(recorded.counter(metric::SLOW_CONSUMERS), 1);
            assert_eq!(recorded.gauge(metric::OUTBOUND_QUEUED_FRAMES), 1.0);
            assert_eq!(recorded.gauge(metric::CONNECTIONS_BEHIND), 1.0);
        });
    }
}

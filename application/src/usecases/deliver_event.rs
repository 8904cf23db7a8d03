//! Use case: events arrived from the bus; hand them to this instance's subscribers, each
//! room's in strictly increasing `seq` (see [`domain::RoomOrder`] for why the bus alone
//! cannot promise that, and `docs/design.md` §4).

use std::sync::Arc;
use std::time::Duration;

use domain::{ChatEvent, Gap, OrderLimits, Released, RoomKey, RoomOrder, Seq, catch_up_all};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use crate::ports::outbound::{
    DeliveryMonitor, EventStream, MessageStore, OrderReport, RoomBroadcaster, RoomChanges,
};

/// A probe's answer: the room and the stored events found in its gap, each with its seq.
type Found = (RoomKey, Vec<(Seq, ChatEvent)>);

/// Delivers each bus event to the local subscribers of its audiences: a room's stored events
/// in seq order (holding one that overtook an earlier one, looking the missing ones up in the
/// store, skipping them after `limits.hold`), typing, presence and occupancy at once.
pub struct DeliverEvent {
    broadcaster: Arc<dyn RoomBroadcaster>,
    store: Arc<dyn MessageStore>,
    monitor: Arc<dyn DeliveryMonitor>,
    limits: OrderLimits,
}

impl DeliverEvent {
    /// Wires the use case to the local broadcaster, the store gaps are looked up in, and
    /// where the order's work is reported.
    pub fn new(
        broadcaster: Arc<dyn RoomBroadcaster>,
        store: Arc<dyn MessageStore>,
        monitor: Arc<dyn DeliveryMonitor>,
        limits: OrderLimits,
    ) -> Self {
        Self {
            broadcaster,
            store,
            monitor,
            limits,
        }
    }

    /// Delivers one event at once, whatever its seq.
    pub fn execute(&self, event: &ChatEvent) {
        let audiences = event.audiences();
        if audiences.is_empty() {
            return;
        }
        self.broadcaster.deliver(&audiences, event);
    }

    /// Delivers every event of `events` until the stream ends: unnumbered ones at once,
    /// each room's numbered ones in seq order.
    pub async fn run(&self, mut events: EventStream) {
        let mut order = RoomOrder::new(self.limits);
        let mut probes: FuturesUnordered<BoxFuture<'static, Found>> = FuturesUnordered::new();
        loop {
            let deadline = order.next_deadline().map(Instant::from_std);
            tokio::select! {
                event = events.next() => match event {
                    Some(event) => self.accept(&mut order, event),
                    None => break,
                },
                Some((room, found)) = probes.next(), if !probes.is_empty() => {
                    let filled = u64::try_from(found.len()).unwrap_or(u64::MAX);
                    let released = order.probed(room, found, Instant::now().into_std());
                    self.release(&released, &order, filled);
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    let now = Instant::now().into_std();
                    let released = order.expire(now);
                    self.release(&released, &order, 0);
                    probes.extend(order.due_probes(now).into_iter().map(|gap| self.probe(gap)));
                }
            }
        }
        tracing::info!(held = order.held(), "event stream ended");
    }

    /// Looks `gap` up in the store: the events stored there (a writer slow to publish, or
    /// one that stored and then died or gave up), as the live events would have been.
    fn probe(&self, gap: Gap) -> BoxFuture<'static, Found> {
        let store = Arc::clone(&self.store);
        // Every message posted or changed since the gap: the gap's own, those held after it,
        // and those stored since and not yet delivered (the store answers nothing beyond it).
        let limit = (self.limits.max_held_per_room * 4).saturating_add(
            usize::try_from(gap.before.get() - gap.after.get()).unwrap_or(usize::MAX),
        );
        Box::pin(async move {
            let found = match store.events_since(gap.room, gap.after, limit).await {
                Ok(RoomChanges {
                    changed: Some(changed),
                    ..
                }) => catch_up_all(
                    gap.after,
                    changed.into_iter().map(|c| (c.message, c.last_change)),
                )
                .into_iter()
                .filter_map(|event| event.seq().map(|seq| (seq, event)))
                .filter(|(seq, _)| *seq < gap.before)
                .collect(),
                Ok(RoomChanges { changed: None, .. }) => Vec::new(),
                Err(error) => {
                    tracing::warn!(room = %gap.room, error = %anyhow::Error::from(error), "a gap could not be looked up in the store");
                    Vec::new()
                }
            };
            (gap.room, found)
        })
    }

    fn accept(&self, order: &mut RoomOrder<ChatEvent>, event: ChatEvent) {
        let Some((room, seq)) = event.room().zip(event.seq()) else {
            self.execute(&event);
            return;
        };
        let released = order.offer(room, seq, event, Instant::now().into_std());
        if released.late > 0 {
            // Usually the bus copy of an event already filled in from the store, or a
            // repeated publish; counted by the monitor.
            tracing::debug!(
                %room, %seq,
                "an event arrived after its room moved past it; not delivered live (in history)"
            );
        }
        self.release(&released, order, 0);
    }

    fn release(&self, released: &Released<ChatEvent>, order: &RoomOrder<ChatEvent>, filled: u64) {
        self.monitor
            .report(OrderReport::of(released, filled, order.held()));
        if released.skipped > 0 {
            tracing::warn!(
                skipped = released.skipped,
                held = order.held(),
                "missing room seqs skipped: not in the store within delivery.order_hold_ms, \
                 or too many events waiting behind them (a writer died before storing)"
            );
        }
        for run in &released.skipped_runs {
            self.broadcaster
                .skipped(run.room.audience(), run.from, run.to);
        }
        for event in &released.events {
            self.execute(event);
        }
    }
}

/// Sleeps until `deadline`; never returns without one (the select guards that arm).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The delivery order defaults. A gap is looked up in the store after `probe_after`, so a
/// message that was stored but is slow to come through the bus (or never will) is delivered
/// in its place within about that; `hold` only bounds the wait for a seq whose message is not
/// stored (a writer that died between numbering and storing it, or a slow store write);
/// `first_hold` covers two writers racing when a room is first seen.
pub const DEFAULT_ORDER_LIMITS: OrderLimits = OrderLimits {
    hold: Duration::from_secs(3),
    first_hold: Duration::from_millis(300),
    probe_after: Duration::from_millis(500),
    max_held_per_room: 128,
    max_rooms: 100_000,
};

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use domain::{
        Audience, Message, MessageBody, MessageId, NewMessage, PresenceChange, PresenceStatus,
        RoomId, Seq, Timestamp,
    };

    use super::*;
    use crate::ports::outbound::{
        ChangedMessage, MockDeliveryMonitor, MockMessageStore, MockRoomBroadcaster,
    };
    use crate::usecases::test_support::{ALICE, DM, profile, stored};

    #[test]
    fn a_room_event_is_delivered_to_its_room() {
        let mut broadcaster = MockRoomBroadcaster::new();
        broadcaster
            .expect_deliver()
            .withf(|audiences, _| audiences == [Audience::Direct(RoomId::new(5))])
            .times(1)
            .return_const(());

        DeliverEvent::new(
            Arc::new(broadcaster),
            empty_store(),
            quiet(),
            DEFAULT_ORDER_LIMITS,
        )
        .execute(&ChatEvent::Posted(stored("m1", ALICE, DM, "hi")));
    }

    #[test]
    fn a_presence_change_of_a_user_without_rooms_is_delivered_nowhere() {
        let mut broadcaster = MockRoomBroadcaster::new();
        broadcaster.expect_deliver().never();

        DeliverEvent::new(
            Arc::new(broadcaster),
            empty_store(),
            quiet(),
            DEFAULT_ORDER_LIMITS,
        )
        .execute(&ChatEvent::Presence(PresenceChange {
            user: ALICE,
            status: PresenceStatus::Online,
            audiences: vec![],
        }));
    }

    /// A monitor that takes every report.
    fn quiet() -> Arc<dyn DeliveryMonitor> {
        let mut monitor = MockDeliveryMonitor::new();
        monitor.expect_report().return_const(());
        Arc::new(monitor)
    }

    /// A monitor that adds every report up (`held`: the last one's).
    fn summing() -> (Arc<dyn DeliveryMonitor>, Arc<Mutex<OrderReport>>) {
        let total = Arc::new(Mutex::new(OrderReport::default()));
        let sum = Arc::clone(&total);
        let mut monitor = MockDeliveryMonitor::new();
        monitor.expect_report().returning(move |report| {
            let mut sum = sum.lock().expect("sum");
            sum.skipped += report.skipped;
            sum.late += report.late;
            sum.filled += report.filled;
            sum.held = report.held;
        });
        (Arc::new(monitor), total)
    }

    /// Delivery running over a stream the test feeds, which has sent seqs 1 and 3 of `DM`
    /// (`m1`, `m3`) so far.
    fn running(
        broadcaster: MockRoomBroadcaster,
        store: Arc<dyn MessageStore>,
        monitor: Arc<dyn DeliveryMonitor>,
    ) -> (
        futures::channel::mpsc::UnboundedSender<ChatEvent>,
        tokio::task::JoinHandle<()>,
    ) {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let deliver =
            DeliverEvent::new(Arc::new(broadcaster), store, monitor, DEFAULT_ORDER_LIMITS);
        let task = tokio::spawn(async move { deliver.run(rx.boxed()).await });
        for (id, seq) in [("m1", 1), ("m3", 3)] {
            tx.unbounded_send(posted(id, seq)).expect("send");
        }
        (tx, task)
    }

    /// A store with nothing in any gap.
    fn empty_store() -> Arc<dyn MessageStore> {
        let mut store = MockMessageStore::new();
        store.expect_events_since().returning(|_, _, _| {
            Ok(RoomChanges {
                changed: Some(Vec::new()),
                last_seq: None,
            })
        });
        Arc::new(store)
    }

    fn posted(id: &str, seq: u64) -> ChatEvent {
        ChatEvent::Posted(message(id, seq))
    }

    fn message(id: &str, seq: u64) -> Message {
        {
            NewMessage {
                id: MessageId::parse(id).expect("id"),
                room: DM,
                author: profile(ALICE),
                body: MessageBody::parse("hi").expect("body"),
                parent: None,
                attachment: None,
                sent_at: Timestamp::from_unix_micros(1),
                client_msg_id: None,
            }
            .stored_at(Seq::new(seq))
        }
    }

    /// A broadcaster that records the message ids (or `typing`) it is given, in order.
    fn recording() -> (MockRoomBroadcaster, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut broadcaster = MockRoomBroadcaster::new();
        let log = Arc::clone(&seen);
        broadcaster.expect_deliver().returning(move |_, event| {
            let name = match event {
                ChatEvent::Posted(m) => m.id().as_str().to_owned(),
                other => format!("{other:?}").chars().take(6).collect(),
            };
            log.lock().expect("log").push(name);
        });
        let log = Arc::clone(&seen);
        broadcaster
            .expect_skipped()
            .returning(move |audience, from, to| {
                let name = format!("gap {audience} {}-{}", from.get(), to.get());
                log.lock().expect("log").push(name);
            });
        (broadcaster, seen)
    }

    fn taken(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
        seen.lock().expect("log").clone()
    }

    #[tokio::test]
    async fn every_event_of_the_stream_is_delivered_in_order() {
        let (broadcaster, seen) = recording();
        let events = futures::stream::iter(vec![posted("m1", 1), posted("m2", 2)]).boxed();

        DeliverEvent::new(
            Arc::new(broadcaster),
            empty_store(),
            quiet(),
            DEFAULT_ORDER_LIMITS,
        )
        .run(events)
        .await;

        assert_eq!(taken(&seen), ["m1", "m2"]);
    }

    #[tokio::test]
    async fn an_event_that_overtook_an_earlier_one_of_its_room_is_delivered_after_it() {
        let (broadcaster, seen) = recording();
        let events =
            futures::stream::iter(vec![posted("m1", 1), posted("m3", 3), posted("m2", 2)]).boxed();

        DeliverEvent::new(
            Arc::new(broadcaster),
            empty_store(),
            quiet(),
            DEFAULT_ORDER_LIMITS,
        )
        .run(events)
        .await;

        assert_eq!(taken(&seen), ["m1", "m2", "m3"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_seq_whose_event_never_comes_is_skipped_after_the_hold_and_typing_is_not_held_and_both_are_reported()
     {
        let (broadcaster, seen) = recording();
        let (monitor, reported) = summing();
        let (tx, task) = running(broadcaster, empty_store(), monitor);
        tx.unbounded_send(ChatEvent::Typing(domain::Typing {
            room: DM,
            user: profile(ALICE),
        }))
        .expect("send");
        tokio::time::sleep(DEFAULT_ORDER_LIMITS.hold / 2).await;
        assert_eq!(taken(&seen), ["m1", "Typing"], "m3 waits for seq 2");

        tokio::time::sleep(DEFAULT_ORDER_LIMITS.hold).await;
        let skipped = ["m1", "Typing", "gap direct/5 2-2", "m3"];
        assert_eq!(
            taken(&seen),
            skipped,
            "seq 2 is skipped, and its subscribers told"
        );

        tx.unbounded_send(posted("m2", 2)).expect("send");
        drop(tx);
        task.await.expect("delivery ends with the stream");
        assert_eq!(taken(&seen), skipped, "late: not delivered live");
        let reported = *reported.lock().expect("sum");
        assert_eq!((reported.skipped, reported.late, reported.held), (1, 1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_whose_message_is_stored_is_filled_from_the_store_in_its_place_and_reported() {
        let (broadcaster, seen) = recording();
        let mut store = MockMessageStore::new();
        store
            .expect_events_since()
            .withf(|room, after, _| *room == DM.key() && *after == Seq::new(1))
            .times(1)
            .returning(|_, _, _| {
                Ok(RoomChanges {
                    changed: Some(
                        [("m2", 2), ("m3", 3)]
                            .map(|(id, seq)| ChangedMessage {
                                message: message(id, seq),
                                last_change: None,
                            })
                            .to_vec(),
                    ),
                    last_seq: Some(Seq::new(3)),
                })
            });
        let (monitor, reported) = summing();
        let (tx, task) = running(broadcaster, Arc::new(store), monitor);

        tokio::time::sleep(DEFAULT_ORDER_LIMITS.probe_after * 2).await;
        assert_eq!(
            taken(&seen),
            ["m1", "m2", "m3"],
            "m2 read from the store, m3 once"
        );

        tx.unbounded_send(posted("m2", 2)).expect("send");
        drop(tx);
        task.await.expect("delivery ends with the stream");
        assert_eq!(
            taken(&seen),
            ["m1", "m2", "m3"],
            "the bus copy of m2 is late"
        );
        let reported = *reported.lock().expect("sum");
        assert_eq!(
            (reported.filled, reported.late, reported.skipped),
            (1, 1, 0)
        );
    }
}

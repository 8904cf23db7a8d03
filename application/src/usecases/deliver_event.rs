//! Use case: an event arrived from the bus; hand it to this instance's subscribers.

use std::sync::Arc;

use domain::ChatEvent;
use futures::StreamExt as _;

use crate::ports::outbound::{EventStream, RoomBroadcaster};

/// Delivers each bus event to the local subscribers of its audiences.
pub struct DeliverEvent {
    broadcaster: Arc<dyn RoomBroadcaster>,
}

impl DeliverEvent {
    /// Wires the use case to the local broadcaster.
    pub fn new(broadcaster: Arc<dyn RoomBroadcaster>) -> Self {
        Self { broadcaster }
    }

    /// Delivers one event.
    pub fn execute(&self, event: &ChatEvent) {
        let audiences = event.audiences();
        if audiences.is_empty() {
            return;
        }
        self.broadcaster.deliver(&audiences, event);
    }

    /// Delivers every event of `events`, in order, until the stream ends.
    pub async fn run(&self, mut events: EventStream) {
        while let Some(event) = events.next().await {
            self.execute(&event);
        }
        tracing::info!("event stream ended");
    }
}

#[cfg(test)]
mod tests {
    use domain::{Audience, PresenceChange, PresenceStatus, RoomId};

    use super::*;
    use crate::ports::outbound::MockRoomBroadcaster;
    use crate::usecases::test_support::{ALICE, DM, stored};

    #[test]
    fn a_room_event_is_delivered_to_its_room() {
        let mut broadcaster = MockRoomBroadcaster::new();
        broadcaster
            .expect_deliver()
            .withf(|audiences, _| audiences == [Audience::Direct(RoomId::new(5))])
            .times(1)
            .return_const(());

        DeliverEvent::new(Arc::new(broadcaster))
            .execute(&ChatEvent::Posted(stored("m1", ALICE, DM, "hi")));
    }

    #[test]
    fn a_presence_change_of_a_user_without_rooms_is_delivered_nowhere() {
        let mut broadcaster = MockRoomBroadcaster::new();
        broadcaster.expect_deliver().never();

        DeliverEvent::new(Arc::new(broadcaster)).execute(&ChatEvent::Presence(PresenceChange {
            user: ALICE,
            status: PresenceStatus::Online,
            audiences: vec![],
        }));
    }

    #[tokio::test]
    async fn every_event_of_the_stream_is_delivered_in_order() {
        let mut broadcaster = MockRoomBroadcaster::new();
        let mut order = mockall::Sequence::new();
        for id in ["m1", "m2"] {
            broadcaster
                .expect_deliver()
                .withf(move |_, e| matches!(e, ChatEvent::Posted(m) if m.id().as_str() == id))
                .times(1)
                .in_sequence(&mut order)
                .return_const(());
        }
        let events = futures::stream::iter(vec![
            ChatEvent::Posted(stored("m1", ALICE, DM, "one")),
            ChatEvent::Posted(stored("m2", ALICE, DM, "two")),
        ])
        .boxed();

        DeliverEvent::new(Arc::new(broadcaster)).run(events).await;
    }
}

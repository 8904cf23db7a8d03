use domain::{Audience, ChatEvent, Seq};

/// Delivery of events to this instance's own subscribers (its sockets).
///
/// Implemented by `adapters/stomp` (`SubscriptionHub`); mocked as `MockRoomBroadcaster`.
/// Synchronous on purpose: delivery only enqueues onto bounded per-connection
/// queues and never waits for a slow client.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RoomBroadcaster: Send + Sync + 'static {
    /// Deliver `event` to every local subscriber of any of `audiences`.
    fn deliver(&self, audiences: &[Audience], event: &ChatEvent);

    /// The room events `from..=to` heard by `audience` will not be delivered live (they were
    /// skipped): its local subscribers are told to read the room again.
    fn skipped(&self, audience: Audience, from: Seq, to: Seq);

    /// The member list of `group` (a DM room or a community) changed: local
    /// subscriptions that may be affected (for a community, also its channels')
    /// must be authorised again, so removed members stop hearing it.
    fn membership_changed(&self, group: Audience);
}

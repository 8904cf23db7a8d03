use std::time::Duration;

use domain::Audience;

/// How far this instance's delivery to its own subscribers is behind: the sources of new
/// events (SENDs) are slowed while it is, so readers are never dropped because the server
/// is busy.
///
/// Implemented by `adapters/stomp` (`SubscriptionHub`, over its subscribers' outbound
/// queues); mocked as `MockDeliveryBacklog`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait DeliveryBacklog: Send + Sync + 'static {
    /// Waits until delivery to `audience` has room for another event, at most `patience`:
    /// `true` once it has, `false` if it is still behind when `patience` runs out.
    async fn wait_for_room(&self, audience: Audience, patience: Duration) -> bool;
}

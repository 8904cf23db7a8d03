use domain::ChatEvent;
use futures::stream::BoxStream;

/// The events this instance receives from the bus, in the bus's order.
pub type EventStream = BoxStream<'static, ChatEvent>;

/// Carries every event to every instance (this one included).
///
/// Implemented by `adapters/memory` (`MemoryEventBus`); mocked as `MockEventBus`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Hand an event to the bus; returns once the bus has accepted it.
    ///
    /// # Errors
    /// [`BusError::Unavailable`] when the bus did not accept the event.
    async fn publish(&self, event: &ChatEvent) -> Result<(), BusError>;

    /// Start receiving every event published from now on, by any instance.
    ///
    /// # Errors
    /// [`BusError::Unavailable`] when the subscription could not be set up.
    fn subscribe(&self) -> Result<EventStream, BusError>;
}

/// Failures of the event bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus could not be reached or refused the event; the cause is attached.
    #[error("event bus unavailable")]
    Unavailable(#[source] anyhow::Error),
}

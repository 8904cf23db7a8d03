//! The event bus chosen by configuration: in process (embedded mode) or Kafka
//! (`[kafka]` present), which carries every event to every instance.

use adapter_kafka::KafkaEventBus;
use adapter_memory::MemoryEventBus;
use application::ports::outbound::{BusError, EventBus, EventStream};
use domain::ChatEvent;

/// One of the two event-bus adapters; delegates every call to it.
pub enum Bus {
    /// In process: this instance only.
    Memory(MemoryEventBus),
    /// Kafka: every instance.
    Kafka(Box<KafkaEventBus>),
}

impl Bus {
    /// `None` when in process; else whether the brokers answer and this instance's
    /// consumers have their partitions (before that, events of other instances are missed).
    pub async fn readiness(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Memory(_) => None,
            Self::Kafka(bus) => Some(match bus.ping().await {
                Ok(()) if bus.is_ready() => Ok(()),
                Ok(()) => Err(anyhow::anyhow!(
                    "consumers not yet assigned their partitions"
                )),
                Err(error) => Err(error),
            }),
        }
    }
}

impl EventBus for Bus {
    async fn publish(&self, event: &ChatEvent) -> Result<(), BusError> {
        match self {
            Self::Memory(bus) => bus.publish(event).await,
            Self::Kafka(bus) => bus.publish(event).await,
        }
    }

    fn subscribe(&self) -> Result<EventStream, BusError> {
        match self {
            Self::Memory(bus) => bus.subscribe(),
            Self::Kafka(bus) => bus.subscribe(),
        }
    }
}

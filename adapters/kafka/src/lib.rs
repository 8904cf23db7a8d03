//! The [`EventBus`](application::ports::outbound::EventBus) port over Kafka (rdkafka): every
//! event reaches every instance, this one included, in per-room order.
//!
//! # Layout
//!
//! * `settings`: the `[kafka]` table: brokers, the seed's topic and group names, timeouts.
//! * `routing`: which topic (by kind, as the seed split them) and which key (the room) an event
//!   gets.
//! * `payload`: the JSON shape of every event (the domain has no serde).
//! * `envelope`: the versioned record value around a payload, and its typed decoding errors.
//! * `topics`: creating missing topics, at start-up and whenever they disappear.
//! * `consumer`: one thread per topic that polls, decodes, skips malformed records and fans
//!   events out; start offsets and readiness.
//! * `consumer_loss`: a consumer thread that ends while the bus is open ends the bus's event
//!   streams, so the loss is visible to whoever delivers them.
//! * `readiness`: whether every consumer can receive.
//! * `bus`: [`KafkaEventBus`], which ties them together behind the port.
//! * `logging`: librdkafka's logs into `tracing`. The `chat_bus_…` metrics are named in
//!   `metric_names::bus`.

mod bus;
mod consumer;
mod consumer_loss;
mod envelope;
mod logging;
mod payload;
mod readiness;
mod routing;
mod settings;
mod topics;

pub use bus::KafkaEventBus;
pub use settings::{GroupPrefixSettings, KafkaSettings, TopicSettings};

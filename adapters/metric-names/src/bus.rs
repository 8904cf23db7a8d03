//! The event bus over Kafka. The [`TOPIC`] label is bounded: it is one of the configured
//! topics.

use metrics::Counter;

/// Counter by [`TOPIC`]: events the brokers acknowledged.
pub const PUBLISHED: &str = "chat_bus_published_total";
/// Counter by [`TOPIC`]: publishes that failed (not acknowledged in time, refused, not
/// encodable).
pub const PUBLISH_FAILED: &str = "chat_bus_publish_failed_total";
/// Counter by [`TOPIC`]: events read from the bus and handed to local subscribers.
pub const RECEIVED: &str = "chat_bus_received_total";
/// Counter by [`TOPIC`]: records skipped because they are not a readable event.
pub const MALFORMED: &str = "chat_bus_malformed_total";
/// Counter by [`TOPIC`]: errors a consumer reported (broker down, unknown topic, …).
pub const CONSUMER_ERRORS: &str = "chat_bus_consumer_errors_total";

/// Label key: the topic.
pub const TOPIC: &str = "topic";

/// The counter `name` (one of this module's) of `topic`.
pub fn by_topic(name: &'static str, topic: &str) -> Counter {
    metrics::counter!(name, TOPIC => topic.to_owned())
}

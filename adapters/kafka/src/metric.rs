//! Names and label keys of the metrics this adapter records, in one place.
//!
//! The `topic` label is bounded: it is one of the configured topics.

/// Counter by `topic`: events the brokers acknowledged.
pub(crate) const PUBLISHED: &str = "chat_bus_published_total";
/// Counter by `topic`: publishes that failed (not acknowledged in time, refused, not encodable).
pub(crate) const PUBLISH_FAILED: &str = "chat_bus_publish_failed_total";
/// Counter by `topic`: events read from the bus and handed to local subscribers.
pub(crate) const RECEIVED: &str = "chat_bus_received_total";
/// Counter by `topic`: records skipped because they are not a readable event.
pub(crate) const MALFORMED: &str = "chat_bus_malformed_total";
/// Counter by `topic`: errors a consumer reported (broker down, unknown topic, …).
pub(crate) const CONSUMER_ERRORS: &str = "chat_bus_consumer_errors_total";

/// Label key: the topic.
pub(crate) const TOPIC: &str = "topic";

/// Describes every metric of this adapter to the installed `metrics` recorder.
pub(crate) fn describe() {
    use metrics::describe_counter;

    describe_counter!(PUBLISHED, "Events acknowledged by Kafka, by topic.");
    describe_counter!(
        PUBLISH_FAILED,
        "Events Kafka did not acknowledge in time or refused, by topic."
    );
    describe_counter!(
        RECEIVED,
        "Events read from Kafka and delivered to local subscribers, by topic."
    );
    describe_counter!(
        MALFORMED,
        "Kafka records skipped because they are not a readable event, by topic."
    );
    describe_counter!(
        CONSUMER_ERRORS,
        "Errors reported by Kafka consumers (broker unreachable, unknown topic…), by topic."
    );
}

/// Adds one to a counter of `topic`.
pub(crate) fn count(name: &'static str, topic: &str) {
    metrics::counter!(name, TOPIC => topic.to_owned()).increment(1);
}

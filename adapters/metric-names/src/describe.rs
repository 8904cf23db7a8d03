//! [`describe_all`]: the help text (and unit) of every metric, for the scrape output.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

use crate::{bus, delivery, dependency, errors, http, stomp, tasks, uploads};

/// Describes every metric of the server to the installed `metrics` recorder; call it once,
/// after installing the recorder.
pub fn describe_all() {
    describe_counter!(
        http::REQUESTS,
        Unit::Count,
        "HTTP requests served, by method, route template and status."
    );
    describe_histogram!(
        http::REQUEST_DURATION,
        Unit::Seconds,
        "Time to produce an HTTP response, by method, route template and status."
    );
    describe_counter!(
        http::ACCEPT_ERRORS,
        Unit::Count,
        "Errors accepting a connection (out of file descriptors or memory); each pauses the accept loop briefly."
    );
    describe_counter!(
        dependency::DEGRADED,
        Unit::Count,
        "Answers a lobby dependency gave from a cache or fallback, or failed to give (degraded mode), by dependency."
    );
    describe_gauge!(
        dependency::UP,
        "1 when the last /readyz probe reached the dependency, 0 when it did not, by dependency."
    );
    describe_counter!(
        errors::ERRORS,
        "Refusals and fatal errors sent to clients, by stable code."
    );
    describe_gauge!(
        uploads::IN_PROGRESS,
        "File uploads in progress on this instance."
    );
    describe_counter!(
        tasks::STOPPED,
        Unit::Count,
        "Background tasks (event delivery, lease renewal, metrics upkeep) that stopped before shutdown, by task; the process then exits non-zero."
    );
    describe_stomp();
    describe_bus();
    describe_delivery();
}

fn describe_delivery() {
    describe_counter!(
        delivery::SKIPPED,
        Unit::Count,
        "Missing room seqs skipped after delivery.order_hold_ms: a writer died before storing its message."
    );
    describe_counter!(
        delivery::LATE,
        Unit::Count,
        "Room events not delivered live because their room had moved past them (in history)."
    );
    describe_counter!(
        delivery::FILLED,
        Unit::Count,
        "Room events delivered from the store in place of missing ones: writers that stored and did not publish in time."
    );
    describe_gauge!(
        delivery::HELD,
        "Room events waiting for a missing seq on this instance, over every room."
    );
}

fn describe_stomp() {
    describe_gauge!(
        stomp::CONNECTIONS,
        "STOMP WebSocket sessions currently open."
    );
    describe_gauge!(
        stomp::SUBSCRIPTIONS,
        "STOMP subscriptions currently registered on this node."
    );
    describe_counter!(
        stomp::FRAMES_RECEIVED,
        "STOMP frames received from clients, by command (HEARTBEAT for heart-beats)."
    );
    describe_counter!(
        stomp::FRAMES_SENT,
        "STOMP frames sent to clients, by command (HEARTBEAT for heart-beats)."
    );
    describe_counter!(
        stomp::EVENTS_DELIVERED,
        "Chat events queued to subscribers as MESSAGE frames."
    );
    describe_counter!(
        stomp::SLOW_CONSUMERS,
        "Connections closed because their outbound queue stayed full while others drained."
    );
    describe_gauge!(
        stomp::OUTBOUND_QUEUED_FRAMES,
        "MESSAGE frames waiting in the connections' outbound queues."
    );
    describe_gauge!(
        stomp::OUTBOUND_QUEUED_BYTES,
        Unit::Bytes,
        "Bytes waiting in the connections' outbound queues."
    );
    describe_gauge!(
        stomp::OUTBOUND_BUDGET_BYTES,
        Unit::Bytes,
        "The most bytes the outbound queues may hold together."
    );
    describe_gauge!(
        stomp::CONNECTIONS_BEHIND,
        "Connections whose outbound queue is past its high-water mark."
    );
    describe_counter!(
        stomp::DELIVERIES_DROPPED,
        "Deliveries not queued to a full outbound queue (announced by a gap event)."
    );
    describe_counter!(
        stomp::PUBLISHES_DELAYED,
        "SENDs that waited for their room's delivery to catch up."
    );
    describe_counter!(
        stomp::CONNECTIONS_REFUSED,
        "Sockets and sessions refused over a connection cap, by reason."
    );
    describe_counter!(
        stomp::WRITE_TIMEOUTS,
        "Sessions ended because their client did not take a write in time."
    );
    describe_counter!(
        stomp::SUBSCRIPTIONS_REVOKED,
        "Subscriptions ended because their user may no longer listen."
    );
    describe_counter!(
        stomp::EVENTS_REPLAYED,
        "Room events replayed from the store to subscriptions resumed with x-since-seq."
    );
    describe_counter!(
        stomp::RESUME_GAPS,
        "Resumed subscriptions that missed more than stomp.resume_limit events (sent a gap)."
    );
}

fn describe_bus() {
    describe_counter!(bus::PUBLISHED, "Events acknowledged by Kafka, by topic.");
    describe_counter!(
        bus::PUBLISH_FAILED,
        "Events Kafka did not acknowledge in time or refused, by topic."
    );
    describe_counter!(
        bus::RECEIVED,
        "Events read from Kafka and delivered to local subscribers, by topic."
    );
    describe_counter!(
        bus::MALFORMED,
        "Kafka records skipped because they are not a readable event, by topic."
    );
    describe_counter!(
        bus::CONSUMER_ERRORS,
        "Errors reported by Kafka consumers (broker unreachable, unknown topic…), by topic."
    );
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;
    use crate::{
        Dependency, dependency_degraded, dependency_up, error_code, task_stopped,
        uploads_in_progress,
    };

    #[test]
    fn every_metric_the_server_records_has_a_description() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();

        metrics::with_local_recorder(&recorder, || {
            describe_all();
            metrics::counter!(http::REQUESTS).increment(1);
            metrics::histogram!(http::REQUEST_DURATION).record(0.1);
            metrics::counter!(http::ACCEPT_ERRORS).increment(1);
            dependency_degraded(Dependency::StateServer).increment(1);
            dependency_up(Dependency::EventBus).set(1.0);
            error_code("empty_content").increment(1);
            uploads_in_progress().increment(1.0);
            task_stopped("event_delivery").increment(1);
            for gauge in [
                stomp::CONNECTIONS,
                stomp::SUBSCRIPTIONS,
                stomp::OUTBOUND_QUEUED_FRAMES,
                stomp::OUTBOUND_QUEUED_BYTES,
                stomp::OUTBOUND_BUDGET_BYTES,
                stomp::CONNECTIONS_BEHIND,
                delivery::HELD,
            ] {
                metrics::gauge!(gauge).increment(1.0);
            }
            for counter in [
                stomp::FRAMES_RECEIVED,
                stomp::FRAMES_SENT,
                stomp::EVENTS_DELIVERED,
                stomp::SLOW_CONSUMERS,
                stomp::CONNECTIONS_REFUSED,
                stomp::WRITE_TIMEOUTS,
                stomp::SUBSCRIPTIONS_REVOKED,
                stomp::EVENTS_REPLAYED,
                stomp::RESUME_GAPS,
                stomp::DELIVERIES_DROPPED,
                stomp::PUBLISHES_DELAYED,
                delivery::SKIPPED,
                delivery::LATE,
                delivery::FILLED,
            ] {
                metrics::counter!(counter).increment(1);
            }
            for counter in [
                bus::PUBLISHED,
                bus::PUBLISH_FAILED,
                bus::RECEIVED,
                bus::MALFORMED,
                bus::CONSUMER_ERRORS,
            ] {
                bus::by_topic(counter, "chat-topic").increment(1);
            }
        });

        let rendered = handle.render();
        let names: Vec<&str> = rendered
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .filter_map(|line| line.split(' ').next())
            .collect();
        assert_eq!(names.len(), 34, "{rendered}");
        for name in names {
            let help = format!("# HELP {name} ");
            assert!(
                rendered.contains(&help),
                "{name} has no description:\n{rendered}"
            );
        }
    }

    #[test]
    fn helpers_record_under_the_names_and_label_keys_of_the_catalogue() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();

        metrics::with_local_recorder(&recorder, || {
            dependency_degraded(Dependency::StateServer).increment(2);
            dependency_up(Dependency::AuthService).set(1.0);
            error_code(String::from("not_found")).increment(1);
            bus::by_topic(bus::RECEIVED, "state-topic").increment(1);
        });

        let rendered = handle.render();
        for line in [
            r#"chat_dependency_degraded_total{dependency="state_server"} 2"#,
            r#"chat_dependency_up{dependency="auth_service"} 1"#,
            r#"chat_errors_total{code="not_found"} 1"#,
            r#"chat_bus_received_total{topic="state-topic"} 1"#,
        ] {
            assert!(
                rendered.lines().any(|l| l == line),
                "{line} missing in:\n{rendered}"
            );
        }
    }
}

//! librdkafka's log lines and client errors, routed to `tracing` (rdkafka's default goes to the
//! `log` crate, which the server's subscriber may not collect).
//!
//! A broker outage makes every client report every failed reconnect, at librdkafka's error
//! level: those become warnings, and client-wide errors debug lines (the consumers and the
//! publishes report the outage themselves, once per consumer and per failed publish), so an
//! outage does not flood the log. The client recovers by itself when the broker is back.

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// The context of the producer and the admin client: logging only.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogContext;

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        client_error(&error, reason);
    }
}

/// Forwards one librdkafka log line.
pub(crate) fn log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical => {
            tracing::error!(target: "librdkafka", facility, "{message}");
        }
        RDKafkaLogLevel::Error | RDKafkaLogLevel::Warning => {
            tracing::warn!(target: "librdkafka", facility, "{message}");
        }
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info | RDKafkaLogLevel::Debug => {
            tracing::debug!(target: "librdkafka", facility, "{message}");
        }
    }
}

/// Forwards one client-wide error (broker down, all brokers down, …); fatal ones loudly.
pub(crate) fn client_error(error: &KafkaError, reason: &str) {
    if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Fatal) {
        tracing::error!(target: "librdkafka", %error, reason, "fatal Kafka client error");
    } else {
        tracing::debug!(target: "librdkafka", %error, reason, "Kafka client error");
    }
}

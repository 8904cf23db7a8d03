//! One topic's consumer: a dedicated thread that polls Kafka, decodes each record and hands the
//! event to every local subscriber.
//!
//! A thread, not a tokio task, because librdkafka's calls block: polling, the rebalance callback
//! (which looks up partition offsets), closing the consumer. On its own thread none of that can
//! stall the runtime, and the loop survives every error: it logs, backs off briefly and polls
//! again, while librdkafka reconnects by itself.
//!
//! Where reading starts: offsets are never committed (every instance reads everything, and
//! a restarted instance only wants what is published from then on), so the rebalance callback
//! picks the start of each assigned partition itself — the end of the partition the first time
//! (`latest`), and where this consumer stopped when a partition comes back after a rebalance —
//! and only then reports the consumer ready. A publish made after
//! [`KafkaEventBus::is_ready`](crate::KafkaEventBus::is_ready) is therefore never missed.
//!
//! When every broker goes away, the consumer is replaced by a new one (see [`supervise`]),
//! which resumes where the old one stopped. A thread that ends anyway (a panic) is reported
//! through `consumer_loss`: the bus's event streams end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use domain::ChatEvent;
use metric_names::bus as metric;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::consumer_loss::ConsumerLoss;
use crate::envelope;
use crate::logging;
use crate::readiness::Readiness;
use crate::settings::KafkaSettings;
use crate::topics::TopicAdmin;

/// How long one poll waits for a record; also how soon the thread notices it must stop.
const POLL: Duration = Duration::from_millis(100);
/// Pause after a first error.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Longest pause after consecutive errors.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Repeated errors are logged at warn at most this often (the rest at debug).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// What every consumer of a bus shares.
pub(crate) struct Shared {
    /// Where decoded events go.
    pub(crate) events: broadcast::Sender<ChatEvent>,
    /// The readiness flags of the bus's consumers.
    pub(crate) readiness: Arc<Readiness>,
    /// Set when the bus closes.
    pub(crate) stop: Arc<AtomicBool>,
    /// Re-creates the topics when they disappear.
    pub(crate) admin: Arc<TopicAdmin>,
    /// Told when a consumer thread ends while the bus is open.
    pub(crate) loss: ConsumerLoss,
}

/// Which topic, in which group, under which client id.
pub(crate) struct ConsumerSpec {
    /// The topic.
    pub(crate) topic: String,
    /// The consumer group's name without its nonce: `{prefix}-{instance id}`.
    pub(crate) group: String,
    /// `client.id`, for the brokers' logs.
    pub(crate) client_id: String,
    /// This consumer's readiness flag.
    pub(crate) index: usize,
}

/// Creates the topic's consumer, subscribes it and starts its thread.
pub(crate) fn spawn(
    spec: ConsumerSpec,
    settings: &KafkaSettings,
    shared: Shared,
) -> anyhow::Result<JoinHandle<()>> {
    let config = config(settings, &spec);
    let source = Source {
        config,
        spec,
        positions: Arc::new(Mutex::new(HashMap::new())),
        lookup_timeout: settings.request_timeout(),
        // A consumer without partitions for longer than this may be subscribed to a topic
        // that no longer exists; a first join takes about half a session timeout.
        patience: Duration::from_millis(settings.session_timeout_ms).max(Duration::from_secs(5)),
    };
    // The first consumer is created here so that a configuration error fails start-up.
    let first = source.create(&shared)?;
    let alive = shared.loss.alive(
        &source.spec.topic,
        source.spec.index,
        Arc::clone(&shared.readiness),
        Arc::clone(&shared.stop),
    );
    std::thread::Builder::new()
        .name(format!("kafka-{}", source.spec.topic))
        .spawn(move || {
            let _alive = alive;
            supervise(first, &source, &shared);
        })
        .context("failed to start a Kafka consumer thread")
}

/// The consumer configuration, except the group id (which changes with each consumer).
fn config(settings: &KafkaSettings, spec: &ConsumerSpec) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("client.id", &spec.client_id)
        .set(
            "session.timeout.ms",
            settings.session_timeout_ms.to_string(),
        )
        .set(
            "heartbeat.interval.ms",
            settings.heartbeat_interval_ms.to_string(),
        )
        .set(
            "topic.metadata.refresh.interval.ms",
            settings.metadata_refresh_ms.to_string(),
        )
        .set("fetch.wait.max.ms", settings.fetch_wait_max_ms.to_string())
        .set("socket.timeout.ms", settings.request_timeout_ms.to_string())
        // Offsets are never committed: see the module documentation.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Only used when a chosen start offset is out of range.
        .set("auto.offset.reset", "latest");
    config
}

/// Everything needed to create (and re-create) the consumer of one topic.
struct Source {
    config: ClientConfig,
    spec: ConsumerSpec,
    /// Where reading stopped, per partition; outlives each consumer.
    positions: Arc<Mutex<HashMap<i32, i64>>>,
    lookup_timeout: Duration,
    patience: Duration,
}

impl Source {
    /// A new consumer, subscribed, in a group of its own.
    ///
    /// The group id is `{prefix}-{instance id}-{nonce}`, the nonce new for every consumer.
    /// Offsets are never committed, so a group holds nothing worth reusing, and a fresh group
    /// avoids two measured problems: an instance restarted after a crash under its old group
    /// id waits for the dead member's session to expire before it gets partitions (11 s on
    /// Tansu with a 6 s session timeout, against 3 s for a fresh group), and two processes
    /// accidentally given the same instance id would split the partitions, each silently
    /// missing half of the events.
    fn create(&self, shared: &Shared) -> anyhow::Result<BaseConsumer<BusConsumerContext>> {
        let nonce = Uuid::new_v4().simple().to_string();
        let group_id = format!("{}-{}", self.spec.group, nonce.get(..8).unwrap_or(&nonce));
        let context = BusConsumerContext {
            topic: self.spec.topic.clone(),
            index: self.spec.index,
            readiness: Arc::clone(&shared.readiness),
            positions: Arc::clone(&self.positions),
            lookup_timeout: self.lookup_timeout,
            ever_assigned: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        };
        let consumer: BaseConsumer<BusConsumerContext> = self
            .config
            .clone()
            .set("group.id", &group_id)
            .create_with_context(context)
            .with_context(|| {
                format!(
                    "failed to create the Kafka consumer of `{}`",
                    self.spec.topic
                )
            })?;
        consumer
            .subscribe(&[&self.spec.topic])
            .with_context(|| format!("failed to subscribe to `{}`", self.spec.topic))?;
        tracing::debug!(topic = self.spec.topic, group_id, "Kafka consumer created");
        Ok(consumer)
    }
}

/// Why a consumer's poll loop ended.
enum Ended {
    /// The bus is closing.
    Stopped,
    /// Every broker went away after the consumer had partitions: it must be replaced.
    BrokersLost,
}

/// Runs consumers of the topic one after the other until the bus stops.
///
/// A consumer that lost every broker after it had partitions is replaced by a new one rather
/// than left to reconnect. A memory-only broker (Tansu) comes back with new topic ids, and
/// librdkafka 2.12 crashes the process (a NULL topic name in `rd_kafka_metadata_update_op`)
/// on the first fetch reply of the restarted broker to a consumer still fetching with the old
/// ids. A new consumer starts from fresh metadata; it resumes where the old one stopped.
fn supervise(first: BaseConsumer<BusConsumerContext>, source: &Source, shared: &Shared) {
    let topic = source.spec.topic.as_str();
    let mut consumer = first;
    loop {
        match run(&consumer, topic, source.patience, shared) {
            Ended::Stopped => break,
            Ended::BrokersLost => {
                shared.readiness.set(source.spec.index, false);
                tracing::warn!(topic, "Kafka brokers lost; replacing the consumer");
                // Stop fetching now, before the brokers can come back; from here on the old
                // consumer's callbacks no longer speak for the topic's readiness.
                consumer.context().retired.store(true, Ordering::SeqCst);
                if let Err(error) = consumer.unassign() {
                    tracing::debug!(topic, %error, "could not drop the lost partitions");
                }
                retire(consumer);
            }
        }
        consumer = loop {
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(MAX_BACKOFF);
            match source.create(shared) {
                Ok(replacement) => break replacement,
                Err(error) => {
                    tracing::warn!(
                        topic,
                        error = format!("{error:#}"),
                        "could not replace the Kafka consumer"
                    );
                }
            }
        };
    }
    shared.readiness.set(source.spec.index, false);
    tracing::debug!(topic, "Kafka consumer stopped");
}

/// Closes a consumer on a thread of its own: closing waits for the brokers, which are gone.
fn retire(consumer: BaseConsumer<BusConsumerContext>) {
    let spawned = std::thread::Builder::new()
        .name("kafka-retire".into())
        .spawn(move || drop(consumer));
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start a thread to close a Kafka consumer");
    }
}

/// The poll loop of one consumer, until the bus stops or the brokers are lost.
/// `patience`: how long the consumer may stay without partitions before it suspects its topic
/// is gone.
fn run(
    consumer: &BaseConsumer<BusConsumerContext>,
    topic: &str,
    patience: Duration,
    shared: &Shared,
) -> Ended {
    let index = consumer.context().index;
    let mut errors_in_a_row: u32 = 0;
    let mut last_warn: Option<Instant> = None;
    let mut not_ready_since: Option<Instant> = None;
    let mut last_ensure = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        match consumer.poll(POLL) {
            None => errors_in_a_row = 0,
            Some(Ok(message)) => {
                errors_in_a_row = 0;
                deliver(&message, &shared.events);
                consumer
                    .context()
                    .advance(message.partition(), message.offset());
            }
            Some(Err(error)) => {
                errors_in_a_row = errors_in_a_row.saturating_add(1);
                metric::by_topic(metric::CONSUMER_ERRORS, topic).increment(1);
                let repeated = last_warn.is_some_and(|at| at.elapsed() < WARN_EVERY);
                if repeated {
                    tracing::debug!(topic, %error, "Kafka consumer error");
                } else {
                    last_warn = Some(Instant::now());
                    tracing::warn!(topic, %error, "Kafka consumer error; retrying");
                }
                if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown)
                    && consumer.context().ever_assigned.load(Ordering::SeqCst)
                {
                    return Ended::BrokersLost;
                }
                if is_unknown_topic(&error) {
                    ensure_topics(&shared.admin, topic);
                    last_ensure = Instant::now();
                }
                std::thread::sleep(backoff(errors_in_a_row));
            }
        }
        // A consumer that stays without partitions may be subscribed to a topic that no longer
        // exists (a memory-only broker restarted); creating it again lets the group resume.
        if shared.readiness.is_consumer_ready(index) {
            not_ready_since = None;
        } else {
            let since = *not_ready_since.get_or_insert_with(Instant::now);
            if since.elapsed() > patience && last_ensure.elapsed() > patience {
                ensure_topics(&shared.admin, topic);
                last_ensure = Instant::now();
            }
        }
    }
    Ended::Stopped
}

/// The pause after `errors` consecutive errors: doubling from [`FIRST_BACKOFF`], at most
/// [`MAX_BACKOFF`].
fn backoff(errors: u32) -> Duration {
    let factor = 2_u32.saturating_pow(errors.saturating_sub(1).min(16));
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

fn is_unknown_topic(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic)
    )
}

/// Creates the bus's missing topics from the consumer thread (librdkafka bounds the request).
fn ensure_topics(admin: &TopicAdmin, topic: &str) {
    match futures::executor::block_on(admin.create_missing()) {
        Ok(()) => tracing::debug!(topic, "Kafka topics ensured"),
        Err(error) => tracing::warn!(
            topic,
            error = format!("{:#}", anyhow::Error::new(error)),
            "could not ensure topics"
        ),
    }
}

/// Decodes one record and hands its event to every local subscriber; skips what is malformed.
fn deliver(message: &BorrowedMessage<'_>, events: &broadcast::Sender<ChatEvent>) {
    let topic = message.topic();
    match envelope::decode(message.payload()) {
        Ok(received) => {
            metric::by_topic(metric::RECEIVED, topic).increment(1);
            tracing::trace!(topic, id = %received.id, origin = received.origin, "event received");
            // No subscriber is not an error: nobody on this instance listens yet.
            let _ = events.send(received.event);
        }
        Err(error) => {
            metric::by_topic(metric::MALFORMED, topic).increment(1);
            tracing::warn!(
                topic,
                partition = message.partition(),
                offset = message.offset(),
                error = format!("{:#}", anyhow::Error::new(error)),
                "skipping a malformed Kafka record"
            );
        }
    }
}

/// Where a partition's reading starts, from where this consumer stopped (`resume`, if it read
/// the partition before) and the partition's current `low` and `high` watermarks.
fn start_offset(resume: Option<i64>, low: i64, high: i64) -> i64 {
    match resume {
        // First time: only what is published from now on.
        None => high,
        Some(next) if (low..=high).contains(&next) => next,
        // Past the end: the log was re-created (a memory-only broker restarted) and all of it is
        // newer than what was read. Before the start: retention removed what was not read yet.
        Some(_) => low,
    }
}

/// The consumer's callbacks: rebalances (start offsets and readiness) and logging.
struct BusConsumerContext {
    topic: String,
    index: usize,
    readiness: Arc<Readiness>,
    /// Next offset to read, per partition read from (shared with the consumer's successors).
    positions: Arc<Mutex<HashMap<i32, i64>>>,
    lookup_timeout: Duration,
    /// Whether this consumer ever had partitions (and so may hold per-partition fetch state).
    ever_assigned: AtomicBool,
    /// Set when the consumer was replaced: it takes no partitions any more.
    retired: AtomicBool,
}

impl BusConsumerContext {
    fn advance(&self, partition: i32, offset: i64) {
        self.positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(partition, offset + 1);
    }

    /// Sets a concrete start offset on every partition of `assignment`.
    fn choose_start_offsets(
        &self,
        consumer: &BaseConsumer<Self>,
        assignment: &mut TopicPartitionList,
    ) {
        let partitions: Vec<(String, i32)> = assignment
            .elements()
            .iter()
            .map(|element| (element.topic().to_owned(), element.partition()))
            .collect();
        for (topic, partition) in partitions {
            let resume = self
                .positions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&partition)
                .copied();
            let offset = match consumer.fetch_watermarks(&topic, partition, self.lookup_timeout) {
                Ok((low, high)) => Offset::Offset(start_offset(resume, low, high)),
                Err(error) => {
                    tracing::warn!(topic, partition, %error, "could not look up partition offsets");
                    resume.map_or(Offset::End, Offset::Offset)
                }
            };
            if let Err(error) = assignment.set_partition_offset(&topic, partition, offset) {
                tracing::warn!(topic, partition, %error, "could not set a start offset");
            }
        }
    }
}

impl ClientContext for BusConsumerContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        logging::log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        logging::client_error(&error, reason);
    }
}

impl ConsumerContext for BusConsumerContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        assignment: &mut TopicPartitionList,
    ) {
        if self.retired.load(Ordering::SeqCst) {
            // librdkafka expects an answer to every rebalance; a replaced consumer declines.
            if let Err(error) = consumer.unassign() {
                tracing::debug!(topic = self.topic, %error, "a replaced consumer could not decline partitions");
            }
            return;
        }
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.choose_start_offsets(consumer, assignment);
                match consumer.assign(assignment) {
                    Ok(()) => {
                        tracing::debug!(
                            topic = self.topic,
                            partitions = assignment.count(),
                            "Kafka partitions assigned"
                        );
                        self.ever_assigned.store(true, Ordering::SeqCst);
                        self.readiness.set(self.index, assignment.count() > 0);
                    }
                    Err(error) => {
                        tracing::warn!(topic = self.topic, %error, "could not take the assigned partitions");
                        self.readiness.set(self.index, false);
                    }
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.readiness.set(self.index, false);
                if let Err(error) = consumer.unassign() {
                    tracing::warn!(topic = self.topic, %error, "could not give up revoked partitions");
                }
            }
            other => {
                let code: RDKafkaErrorCode = other.into();
                tracing::warn!(topic = self.topic, error = %code, "Kafka rebalance failed");
                self.readiness.set(self.index, false);
                if let Err(error) = consumer.unassign() {
                    tracing::warn!(topic = self.topic, %error, "could not give up partitions");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_read_for_the_first_time_starts_at_its_end() {
        assert_eq!(start_offset(None, 3, 40), 40);
    }

    #[test]
    fn a_partition_read_before_resumes_where_reading_stopped() {
        assert_eq!(start_offset(Some(17), 3, 40), 17);
        assert_eq!(start_offset(Some(40), 3, 40), 40);
    }

    #[test]
    fn a_partition_whose_log_was_recreated_or_trimmed_starts_at_its_beginning() {
        assert_eq!(start_offset(Some(57), 0, 4), 0);
        assert_eq!(start_offset(Some(2), 10, 40), 10);
    }

    #[test]
    fn the_backoff_doubles_up_to_its_limit() {
        assert_eq!(backoff(1), FIRST_BACKOFF);
        assert_eq!(backoff(2), FIRST_BACKOFF * 2);
        assert_eq!(backoff(50), MAX_BACKOFF);
    }
}

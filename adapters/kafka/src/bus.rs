//! [`KafkaEventBus`]: the [`EventBus`] port over Kafka. Publishing produces one record and waits
//! for the brokers' acknowledgement; receiving is done by one consumer per topic (see
//! `consumer`), which fans each event out to every [`EventBus::subscribe`] stream of this
//! instance; when a consumer thread is lost, every such stream ends (see `consumer_loss`).
//! There is no local short-cut: this instance's own events come back through Kafka,
//! so every instance sees every event once and in the same per-room order.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use application::ports::outbound::{BusError, EventBus, EventStream};
use domain::ChatEvent;
use futures::StreamExt as _;
use metric_names::bus as metric;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::consumer::{self, ConsumerSpec, Shared};
use crate::consumer_loss::ConsumerLoss;
use crate::envelope;
use crate::logging::LogContext;
use crate::readiness::Readiness;
use crate::routing::{TopicKind, record_key};
use crate::settings::KafkaSettings;
use crate::topics::TopicAdmin;

/// Events buffered for a subscriber that is behind before it starts losing them.
const CAPACITY: usize = 4096;
/// Extra time a publish waits beyond the delivery timeout, for librdkafka to report it.
const DELIVERY_GRACE: Duration = Duration::from_secs(1);
/// How long [`KafkaEventBus::close`] waits for the consumers to leave their groups.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

type KafkaProducer = FutureProducer<LogContext>;

/// The producer in use, and when and how often it was replaced.
struct ProducerSlot {
    /// `None` once the bus is closing.
    producer: Option<KafkaProducer>,
    /// Counts replacements, so that concurrent failures replace the producer once.
    generation: u64,
    replaced_at: Instant,
}

/// The cluster-mode event bus.
pub struct KafkaEventBus {
    settings: KafkaSettings,
    instance_id: String,
    client_id: String,
    producer: Mutex<ProducerSlot>,
    events: broadcast::Sender<ChatEvent>,
    readiness: Arc<Readiness>,
    stop: Arc<AtomicBool>,
    loss: ConsumerLoss,
    consumers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for KafkaEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaEventBus")
            .field("brokers", &self.settings.brokers)
            .field("instance_id", &self.instance_id)
            .field("ready", &self.is_ready())
            .finish_non_exhaustive()
    }
}

impl KafkaEventBus {
    /// Creates the missing topics, the producer and one consumer per distinct topic, which
    /// start reading in the background. Returns once the brokers answered; the bus is ready
    /// (receives what anyone publishes) when [`is_ready`](Self::is_ready) says so.
    ///
    /// # Errors
    /// Invalid settings, or brokers that do not answer within `connect_timeout_ms` (the error
    /// names them).
    pub async fn start(settings: &KafkaSettings, instance_id: &str) -> anyhow::Result<Self> {
        settings.validate()?;
        anyhow::ensure!(
            !instance_id.trim().is_empty(),
            "the Kafka instance id is empty"
        );
        let client_id = format!("chat-{instance_id}");
        let admin = Arc::new(TopicAdmin::new(settings, &client_id)?);
        admin
            .ensure(settings.connect_timeout())
            .await
            .context("could not prepare the Kafka topics")?;
        let producer = producer(settings, &client_id)?;

        let topics = settings.topics.distinct();
        let readiness = Arc::new(Readiness::new(
            topics
                .iter()
                .map(|(_, topic)| (*topic).to_owned())
                .collect(),
        ));
        let events = broadcast::channel(CAPACITY).0;
        let stop = Arc::new(AtomicBool::new(false));
        let loss = ConsumerLoss::new();
        let mut consumers = Vec::with_capacity(topics.len());
        for (index, (kind, topic)) in topics.into_iter().enumerate() {
            let spec = ConsumerSpec {
                topic: topic.to_owned(),
                group: format!("{}-{instance_id}", settings.group_prefix.prefix(kind)),
                client_id: format!("{client_id}-{topic}"),
                index,
            };
            let shared = Shared {
                events: events.clone(),
                readiness: Arc::clone(&readiness),
                stop: Arc::clone(&stop),
                admin: Arc::clone(&admin),
                loss: loss.clone(),
            };
            match consumer::spawn(spec, settings, shared) {
                Ok(thread) => consumers.push(thread),
                Err(error) => {
                    stop.store(true, Ordering::SeqCst);
                    return Err(error);
                }
            }
        }
        tracing::info!(
            brokers = settings.brokers,
            instance_id,
            consumers = consumers.len(),
            "Kafka event bus started"
        );
        Ok(Self {
            settings: settings.clone(),
            instance_id: instance_id.to_owned(),
            client_id,
            producer: Mutex::new(ProducerSlot {
                producer: Some(producer),
                generation: 0,
                replaced_at: Instant::now(),
            }),
            events,
            readiness,
            stop,
            loss,
            consumers,
        })
    }

    /// Whether every consumer has its partitions and knows where to start: from then on this
    /// instance receives every event published by anyone.
    pub fn is_ready(&self) -> bool {
        self.readiness.is_ready()
    }

    /// Waits up to `timeout` for [`is_ready`](Self::is_ready); returns whether it became ready.
    pub async fn ready_within(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.is_ready() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Asks the brokers for the metadata of one of the bus's topics.
    ///
    /// # Errors
    /// The brokers did not answer within `request_timeout_ms`.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let (producer, _) = self.producer()?;
        let topic = self.settings.topics.state.clone();
        let timeout = self.settings.request_timeout();
        // The metadata call blocks; keep it off the runtime's threads.
        let lookup = tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), timeout)
                .map(|_| ())
        });
        tokio::time::timeout(timeout + DELIVERY_GRACE, lookup)
            .await
            .map_err(|_| anyhow::anyhow!("Kafka metadata request timed out"))?
            .context("Kafka metadata request was abandoned")?
            .with_context(|| format!("Kafka brokers `{}` did not answer", self.settings.brokers))
    }

    /// Whether the bus can carry events now: the brokers answer and this instance's
    /// consumers have been assigned their partitions (before that, events published by
    /// others would be missed).
    ///
    /// # Errors
    /// Names what is not ready.
    pub async fn readiness(&self) -> anyhow::Result<()> {
        self.ping().await?;
        anyhow::ensure!(
            self.is_ready(),
            "consumers not yet assigned their partitions"
        );
        Ok(())
    }

    /// Stops the consumers (they leave their groups) and the producer, waiting at most a few
    /// seconds; what is still running after that is left to finish on its own threads.
    pub async fn close(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let consumers = std::mem::take(&mut self.consumers);
        let producer = self
            .producer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .producer
            .take();
        let stopped = tokio::task::spawn_blocking(move || {
            for consumer in consumers {
                let _ = consumer.join();
            }
            drop(producer);
        });
        if tokio::time::timeout(CLOSE_TIMEOUT, stopped).await.is_err() {
            tracing::warn!(
                "Kafka consumers did not stop within {} s; leaving them to finish",
                CLOSE_TIMEOUT.as_secs()
            );
        }
    }

    /// The producer in use, and its generation.
    fn producer(&self) -> anyhow::Result<(KafkaProducer, u64)> {
        let slot = self.producer.lock().unwrap_or_else(PoisonError::into_inner);
        let producer = slot
            .producer
            .clone()
            .context("the Kafka event bus is closed")?;
        Ok((producer, slot.generation))
    }

    /// Replaces the producer of `generation` after a failed publish, at most once per delivery
    /// timeout.
    ///
    /// An idempotent producer whose broker lost its producer state (measured with Tansu, which
    /// forgets everything on restart) gets `UNKNOWN_PRODUCER_ID` forever: librdkafka bumps the
    /// epoch of an id the broker does not know, and every later publish times out. Only a new
    /// producer id helps, which a new producer gets; one that failed fatally needs replacing
    /// too. Publishes in flight finish on the old producer, which is then closed.
    fn replace_failed_producer(&self, generation: u64) {
        let mut slot = self.producer.lock().unwrap_or_else(PoisonError::into_inner);
        let delivery_timeout = self.settings.delivery_timeout();
        if slot.generation != generation || slot.replaced_at.elapsed() < delivery_timeout {
            return;
        }
        let Some(current) = slot.producer.as_ref() else {
            return;
        };
        if let Some((code, reason)) = current.client().fatal_error() {
            tracing::error!(%code, reason, "the Kafka producer failed fatally");
        }
        match producer(&self.settings, &self.client_id) {
            Ok(replacement) => {
                let old = slot.producer.replace(replacement);
                slot.generation += 1;
                slot.replaced_at = Instant::now();
                drop(slot);
                tracing::warn!("a Kafka publish failed; the producer was replaced");
                if let Some(old) = old {
                    retire_producer(old, delivery_timeout);
                }
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "could not replace the Kafka producer"
                );
            }
        }
    }
}

/// Lets a replaced producer finish its publishes in flight, then closes it, on a thread of its
/// own (closing blocks).
fn retire_producer(producer: KafkaProducer, delivery_timeout: Duration) {
    let spawned = std::thread::Builder::new()
        .name("kafka-retire".into())
        .spawn(move || {
            let _ = producer.flush(delivery_timeout);
            // The publishes that were in flight hold clones; let them drop theirs first, so
            // that the last clone, whose drop closes the client, is this thread's.
            std::thread::sleep(DELIVERY_GRACE);
            drop(producer);
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start a thread to close a Kafka producer");
    }
}

/// The producer: every record acknowledged by all in-sync replicas, idempotent (a retry never
/// duplicates or reorders), batched for at most `linger_ms`, failed after `delivery_timeout_ms`.
fn producer(settings: &KafkaSettings, client_id: &str) -> anyhow::Result<KafkaProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("client.id", client_id)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", settings.linger_ms.to_string())
        .set(
            "message.timeout.ms",
            settings.delivery_timeout_ms.to_string(),
        )
        .set(
            "request.timeout.ms",
            settings
                .request_timeout_ms
                .min(settings.delivery_timeout_ms)
                .to_string(),
        )
        .create_with_context(LogContext)
        .context("failed to create the Kafka producer")
}

#[async_trait::async_trait]
impl EventBus for KafkaEventBus {
    #[tracing::instrument(name = "kafka.publish", skip_all, fields(topic, key))]
    async fn publish(&self, event: &ChatEvent) -> Result<(), BusError> {
        let topic = self.settings.topics.topic(TopicKind::of(event));
        let key = record_key(event);
        tracing::Span::current().record("topic", topic);
        tracing::Span::current().record("key", key.as_str());
        let failed = |error: anyhow::Error| {
            metric::by_topic(metric::PUBLISH_FAILED, topic).increment(1);
            BusError::Unavailable(error)
        };
        let value = envelope::encode(event, Uuid::new_v4(), &self.instance_id)
            .map_err(|error| failed(anyhow::Error::new(error).context("event not encodable")))?;
        let (producer, generation) = self.producer().map_err(&failed)?;
        let record = FutureRecord::to(topic).key(&key).payload(&value);
        let delivery_timeout = self.settings.delivery_timeout();
        let delivery = tokio::time::timeout(
            delivery_timeout + DELIVERY_GRACE,
            producer.send(record, delivery_timeout),
        )
        .await;
        match delivery {
            Ok(Ok(_)) => {
                metric::by_topic(metric::PUBLISHED, topic).increment(1);
                Ok(())
            }
            Ok(Err((error, _unsent))) => {
                self.replace_failed_producer(generation);
                Err(failed(anyhow::Error::new(error).context(format!(
                    "Kafka did not acknowledge the event on `{topic}`"
                ))))
            }
            Err(_elapsed) => {
                self.replace_failed_producer(generation);
                Err(failed(anyhow::anyhow!(
                    "Kafka did not acknowledge the event on `{topic}` within {} ms",
                    delivery_timeout.as_millis()
                )))
            }
        }
    }

    fn subscribe(&self) -> Result<EventStream, BusError> {
        Ok(event_stream(self.events.subscribe(), self.loss.lost()))
    }
}

/// The events of `receiver`, in order, until the bus closes or `lost` resolves (a consumer
/// thread was lost: what follows would miss a topic's events).
fn event_stream(
    receiver: broadcast::Receiver<ChatEvent>,
    lost: impl Future<Output = ()> + Send + 'static,
) -> EventStream {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::error!(missed, "event subscriber fell behind; events lost");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .take_until(lost)
    .boxed()
}

impl Drop for KafkaEventBus {
    fn drop(&mut self) {
        // The consumer threads see the flag within a poll and close their consumers themselves.
        self.stop.store(true, Ordering::SeqCst);
        // Dropping a producer purges and flushes for up to half a second: not on this thread,
        // which may be a runtime's.
        let producer = self
            .producer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .producer
            .take();
        if let Some(producer) = producer {
            let _ = std::thread::Builder::new()
                .name("kafka-producer-close".into())
                .spawn(move || drop(producer));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use domain::{PresenceChange, PresenceStatus, UserId};

    use super::*;
    use crate::readiness::Readiness;

    fn event(user: u64) -> ChatEvent {
        ChatEvent::Presence(PresenceChange {
            user: UserId::new(user),
            status: PresenceStatus::Online,
            audiences: vec![],
        })
    }

    #[tokio::test]
    async fn an_event_stream_ends_when_a_consumer_thread_is_lost() {
        let events = broadcast::channel(CAPACITY).0;
        let loss = ConsumerLoss::new();
        let readiness = Arc::new(Readiness::new(vec!["chat".into()]));
        let alive = loss.alive("chat", 0, readiness, Arc::new(AtomicBool::new(false)));
        let mut stream = event_stream(events.subscribe(), loss.lost());
        events.send(event(1)).expect("a subscriber");
        assert_eq!(stream.next().await, Some(event(1)));

        std::thread::spawn(move || {
            let _alive = alive;
            panic!("a bug in the poll loop");
        })
        .join()
        .expect_err("the thread panicked");

        assert_eq!(stream.next().await, None);
    }
}

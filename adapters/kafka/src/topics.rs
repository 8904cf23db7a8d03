//! Creating the bus's topics when they are missing: at start-up, and again whenever a consumer
//! finds its topic gone (a memory-only broker such as Tansu forgets every topic on restart;
//! producers re-create topics by themselves, consumers do not).

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use crate::settings::KafkaSettings;

/// Pause between start-up attempts to reach the brokers.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// An admin client that knows which topics the bus needs and how to create them.
pub(crate) struct TopicAdmin {
    admin: AdminClient<DefaultClientContext>,
    brokers: String,
    topics: Vec<String>,
    partitions: i32,
    replication: i32,
    request_timeout: Duration,
}

impl TopicAdmin {
    /// An admin client for the topics of `settings`; no connection is made yet.
    pub(crate) fn new(settings: &KafkaSettings, client_id: &str) -> anyhow::Result<Self> {
        let admin = ClientConfig::new()
            .set("bootstrap.servers", &settings.brokers)
            .set("client.id", client_id)
            .create()
            .context("failed to create the Kafka admin client")?;
        Ok(Self {
            admin,
            brokers: settings.brokers.clone(),
            topics: settings
                .topics
                .distinct()
                .into_iter()
                .map(|(_, topic)| topic.to_owned())
                .collect(),
            partitions: settings.partitions,
            // -1 asks the broker for its default replication factor.
            replication: settings.replication_factor.unwrap_or(-1),
            request_timeout: settings.request_timeout(),
        })
    }

    /// Creates every topic that does not exist yet, retrying while the brokers do not answer
    /// (they may be starting too) and giving up after `timeout`. Start-up calls this one: its
    /// error names the brokers, so a wrong address is obvious.
    pub(crate) async fn ensure(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        let gave_up = || {
            format!(
                "Kafka brokers `{}` did not answer within {} ms",
                self.brokers,
                timeout.as_millis()
            )
        };
        loop {
            match tokio::time::timeout_at(deadline, self.create_missing()).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(CreateTopicsError::Unanswered(error))) => {
                    if tokio::time::Instant::now() + RETRY_PAUSE >= deadline {
                        return Err(anyhow::Error::new(error).context(gave_up()));
                    }
                    tracing::debug!(%error, "Kafka brokers did not answer; retrying");
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Ok(Err(refused)) => return Err(refused.into()),
                Err(_elapsed) => anyhow::bail!(gave_up()),
            }
        }
    }

    /// Creates every topic that does not exist yet. Needs no tokio timer, so consumer threads
    /// can call it too: librdkafka bounds the request by the request timeout.
    pub(crate) async fn create_missing(&self) -> Result<(), CreateTopicsError> {
        let new_topics: Vec<NewTopic<'_>> = self
            .topics
            .iter()
            .map(|topic| {
                NewTopic::new(
                    topic,
                    self.partitions,
                    TopicReplication::Fixed(self.replication),
                )
            })
            .collect();
        let options = AdminOptions::new()
            .request_timeout(Some(self.request_timeout))
            .operation_timeout(Some(self.request_timeout));
        let results = self
            .admin
            .create_topics(new_topics.iter(), &options)
            .await
            .map_err(CreateTopicsError::Unanswered)?;
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(|result| match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => None,
                Err((topic, code)) => Some(format!("{topic}: {code}")),
            })
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(CreateTopicsError::Refused {
                brokers: self.brokers.clone(),
                failures: failures.join(", "),
            })
        }
    }
}

/// Why topics could not be created.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateTopicsError {
    /// No broker answered the request in time.
    #[error("the Kafka brokers did not answer")]
    Unanswered(#[source] KafkaError),
    /// The brokers answered and refused some topics (permissions, replication factor, …).
    #[error("Kafka brokers `{brokers}` refused to create topics ({failures})")]
    Refused {
        /// The bootstrap brokers.
        brokers: String,
        /// `topic: reason` for each refused topic.
        failures: String,
    },
}

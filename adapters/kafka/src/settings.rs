//! The `[kafka]` settings table (bootstrap owns where it comes from): brokers, the seed's topic
//! and consumer-group names, and the timeouts of every call the bus makes.

use std::time::Duration;

use serde::Deserialize;

use crate::routing::TopicKind;

/// The topic each kind of event travels on. The defaults are the seed's producer-side names,
/// including its swapped naming (`direct-topic` carries *channel* messages). Several kinds may
/// name the same topic: it is then one topic, created and consumed once, and those kinds keep
/// their per-room order relative to each other.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TopicSettings {
    /// New messages and replies in DM rooms.
    pub chat: String,
    /// New messages and replies in community channels.
    pub channel: String,
    /// Edits, deletes and typing in DM rooms.
    pub etc_direct: String,
    /// Edits, deletes and typing in community channels.
    pub etc_community: String,
    /// File messages (DM and channel).
    pub file: String,
    /// Presence and voice-channel state.
    pub state: String,
}

impl Default for TopicSettings {
    fn default() -> Self {
        Self {
            chat: "chat-topic".into(),
            channel: "direct-topic".into(),
            etc_direct: "etc-direct-topic".into(),
            etc_community: "etc-community-topic".into(),
            file: "file-topic".into(),
            state: "state-topic".into(),
        }
    }
}

impl TopicSettings {
    /// The topic of a kind.
    pub(crate) fn topic(&self, kind: TopicKind) -> &str {
        match kind {
            TopicKind::Chat => &self.chat,
            TopicKind::Channel => &self.channel,
            TopicKind::EtcDirect => &self.etc_direct,
            TopicKind::EtcCommunity => &self.etc_community,
            TopicKind::File => &self.file,
            TopicKind::State => &self.state,
        }
    }

    /// Every distinct topic once, in [`TopicKind::ALL`] order, with the first kind naming it
    /// (whose group prefix its consumer uses).
    pub(crate) fn distinct(&self) -> Vec<(TopicKind, &str)> {
        let mut topics: Vec<(TopicKind, &str)> = Vec::new();
        for kind in TopicKind::ALL {
            let topic = self.topic(kind);
            if !topics.iter().any(|(_, seen)| *seen == topic) {
                topics.push((kind, topic));
            }
        }
        topics
    }
}

/// Prefix of the consumer group of each topic's consumer: the seed's listener group names
/// (without their per-deployment digit). The group id adds the instance id and a boot nonce.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GroupPrefixSettings {
    /// Consumer of [`TopicSettings::chat`].
    pub chat: String,
    /// Consumer of [`TopicSettings::channel`].
    pub channel: String,
    /// Consumer of [`TopicSettings::etc_direct`].
    pub etc_direct: String,
    /// Consumer of [`TopicSettings::etc_community`].
    pub etc_community: String,
    /// Consumer of [`TopicSettings::file`].
    pub file: String,
    /// Consumer of [`TopicSettings::state`].
    pub state: String,
}

impl Default for GroupPrefixSettings {
    fn default() -> Self {
        Self {
            chat: "direct-server-group".into(),
            channel: "channel-server-group".into(),
            etc_direct: "direct-etc-server-group".into(),
            etc_community: "channel-etc-server-group".into(),
            file: "file-server-group".into(),
            state: "state-group".into(),
        }
    }
}

impl GroupPrefixSettings {
    /// The prefix of a kind's consumer group.
    pub(crate) fn prefix(&self, kind: TopicKind) -> &str {
        match kind {
            TopicKind::Chat => &self.chat,
            TopicKind::Channel => &self.channel,
            TopicKind::EtcDirect => &self.etc_direct,
            TopicKind::EtcCommunity => &self.etc_community,
            TopicKind::File => &self.file,
            TopicKind::State => &self.state,
        }
    }
}

/// The `[kafka]` settings table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KafkaSettings {
    /// Comma-separated `host:port` list of bootstrap brokers.
    pub brokers: String,
    /// Topic of each kind of event.
    #[serde(default)]
    pub topics: TopicSettings,
    /// Consumer-group prefix of each topic's consumer.
    #[serde(default)]
    pub group_prefix: GroupPrefixSettings,
    /// Partitions of the topics created at start-up. The record key is the room, so a room's
    /// events share a partition and keep their order whatever the count.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Replication factor of the topics created at start-up; absent means the broker's default.
    #[serde(default)]
    pub replication_factor: Option<i32>,
    /// Consumer `session.timeout.ms`. A consumer's first assignment takes about half of it.
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u64,
    /// Consumer `heartbeat.interval.ms`.
    #[serde(default = "default_heartbeat_interval_ms")]
    pub heartbeat_interval_ms: u64,
    /// How often consumers refresh topic metadata, which is also how soon they notice a topic
    /// that was (re)created after they subscribed, e.g. after a memory-only broker restarted.
    #[serde(default = "default_metadata_refresh_ms")]
    pub metadata_refresh_ms: u64,
    /// Consumer `fetch.wait.max.ms`: how long a broker may hold a fetch while no record
    /// arrives. Kafka answers as soon as a record arrives; a broker that does not (Tansu)
    /// delays delivery by up to this much.
    #[serde(default = "default_fetch_wait_max_ms")]
    pub fetch_wait_max_ms: u64,
    /// Producer `linger.ms`: how long a record may wait to be batched with others.
    #[serde(default = "default_linger_ms")]
    pub linger_ms: u64,
    /// How long a publish may wait for the broker's acknowledgement before it fails
    /// (`message.timeout.ms`).
    #[serde(default = "default_delivery_timeout_ms")]
    pub delivery_timeout_ms: u64,
    /// Limit on one request to a broker: topic creation, metadata (ping), offset look-ups.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Limit on start-up's first contact with the brokers (creating the topics).
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
}

fn default_partitions() -> i32 {
    4
}

fn default_session_timeout_ms() -> u64 {
    6_000
}

fn default_heartbeat_interval_ms() -> u64 {
    1_000
}

fn default_metadata_refresh_ms() -> u64 {
    5_000
}

fn default_fetch_wait_max_ms() -> u64 {
    100
}

fn default_linger_ms() -> u64 {
    5
}

fn default_delivery_timeout_ms() -> u64 {
    5_000
}

fn default_request_timeout_ms() -> u64 {
    3_000
}

fn default_connect_timeout_ms() -> u64 {
    10_000
}

impl KafkaSettings {
    /// The defaults, talking to `brokers`.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topics: TopicSettings::default(),
            group_prefix: GroupPrefixSettings::default(),
            partitions: default_partitions(),
            replication_factor: None,
            session_timeout_ms: default_session_timeout_ms(),
            heartbeat_interval_ms: default_heartbeat_interval_ms(),
            metadata_refresh_ms: default_metadata_refresh_ms(),
            fetch_wait_max_ms: default_fetch_wait_max_ms(),
            linger_ms: default_linger_ms(),
            delivery_timeout_ms: default_delivery_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
        }
    }

    /// Refuses settings that librdkafka would refuse later, or that could never work.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.brokers.trim().is_empty(),
            "kafka.brokers is empty (expected host:port[,host:port…])"
        );
        for (kind, topic) in self.topics.distinct() {
            anyhow::ensure!(
                valid_topic_name(topic),
                "kafka.topics.{} `{topic}` is not a valid topic name",
                kind.setting()
            );
        }
        for kind in TopicKind::ALL {
            anyhow::ensure!(
                !self.group_prefix.prefix(kind).trim().is_empty(),
                "kafka.group_prefix.{} is empty",
                kind.setting()
            );
        }
        anyhow::ensure!(self.partitions > 0, "kafka.partitions must be at least 1");
        anyhow::ensure!(
            self.replication_factor.is_none_or(|factor| factor > 0),
            "kafka.replication_factor must be at least 1"
        );
        anyhow::ensure!(
            self.heartbeat_interval_ms > 0 && self.heartbeat_interval_ms < self.session_timeout_ms,
            "kafka.heartbeat_interval_ms must be positive and below kafka.session_timeout_ms"
        );
        anyhow::ensure!(
            self.delivery_timeout_ms > self.linger_ms,
            "kafka.delivery_timeout_ms must exceed kafka.linger_ms"
        );
        // librdkafka's own rule, checked here for a clearer message.
        anyhow::ensure!(
            self.request_timeout_ms >= self.fetch_wait_max_ms + 1_000,
            "kafka.request_timeout_ms must be at least kafka.fetch_wait_max_ms + 1000"
        );
        anyhow::ensure!(
            self.metadata_refresh_ms > 0
                && self.request_timeout_ms > 0
                && self.connect_timeout_ms > 0,
            "kafka timeouts must be positive"
        );
        Ok(())
    }

    pub(crate) fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms)
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}

/// Kafka's rule: 1 to 249 characters of `[A-Za-z0-9._-]`, and not `.` or `..`.
fn valid_topic_name(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_brokers_are_required_and_the_rest_has_the_seeds_names_and_defaults() {
        let settings: KafkaSettings =
            serde_json::from_str(r#"{"brokers":"kafka:9092"}"#).expect("valid");
        assert_eq!(settings, KafkaSettings::new("kafka:9092"));
        assert_eq!(settings.topics.chat, "chat-topic");
        assert_eq!(settings.topics.channel, "direct-topic");
        assert_eq!(settings.topics.etc_direct, "etc-direct-topic");
        assert_eq!(settings.topics.etc_community, "etc-community-topic");
        assert_eq!(settings.topics.file, "file-topic");
        assert_eq!(settings.topics.state, "state-topic");
        assert_eq!(settings.group_prefix.chat, "direct-server-group");
        assert_eq!(settings.group_prefix.state, "state-group");
        assert_eq!(settings.partitions, 4);
        assert_eq!(settings.session_timeout_ms, 6_000);
        assert_eq!(settings.heartbeat_interval_ms, 1_000);
        assert_eq!(settings.linger_ms, 5);
        settings.validate().expect("defaults are valid");
    }

    #[test]
    fn a_partial_topics_table_keeps_the_other_defaults() {
        let settings: KafkaSettings =
            serde_json::from_str(r#"{"brokers":"k:1","topics":{"chat":"all","state":"all"}}"#)
                .expect("valid");
        assert_eq!(settings.topics.chat, "all");
        assert_eq!(settings.topics.channel, "direct-topic");
    }

    #[test]
    fn kinds_naming_the_same_topic_share_one_topic_listed_once() {
        let topics = TopicSettings {
            chat: "dm".into(),
            channel: "rooms".into(),
            etc_direct: "dm".into(),
            etc_community: "rooms".into(),
            file: "rooms".into(),
            state: "state".into(),
        };
        assert_eq!(
            topics.distinct(),
            vec![
                (TopicKind::Chat, "dm"),
                (TopicKind::Channel, "rooms"),
                (TopicKind::State, "state"),
            ]
        );
        assert_eq!(TopicSettings::default().distinct().len(), 6);
    }

    #[test]
    fn unusable_settings_are_refused() {
        let base = || KafkaSettings::new("k:1");
        let bad = [
            KafkaSettings::new(" "),
            KafkaSettings {
                partitions: 0,
                ..base()
            },
            KafkaSettings {
                replication_factor: Some(0),
                ..base()
            },
            KafkaSettings {
                heartbeat_interval_ms: 6_000,
                ..base()
            },
            KafkaSettings {
                delivery_timeout_ms: 5,
                ..base()
            },
            KafkaSettings {
                request_timeout_ms: 0,
                ..base()
            },
            KafkaSettings {
                request_timeout_ms: 1_000,
                fetch_wait_max_ms: 500,
                ..base()
            },
            KafkaSettings {
                topics: TopicSettings {
                    chat: "has space".into(),
                    ..TopicSettings::default()
                },
                ..base()
            },
            KafkaSettings {
                group_prefix: GroupPrefixSettings {
                    file: String::new(),
                    ..GroupPrefixSettings::default()
                },
                ..base()
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?} was accepted");
        }
    }
}

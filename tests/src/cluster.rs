//! Several real `chat-server` processes in cluster mode on one Kafka, one `MongoDB`
//! and one Redis, each test in its own namespace (topics, database, key prefix), so
//! clusters of parallel tests never hear each other.

use std::time::{Duration, Instant};

use crate::TestServer;
use crate::services;

/// Where the cluster's services are: the shared ones, or private ones a test restarts.
#[derive(Debug, Clone)]
pub struct ClusterServices {
    /// `host:port` of the Kafka-protocol broker.
    pub kafka_brokers: String,
    /// Connection string of the MongoDB-protocol server.
    pub mongodb_uri: String,
    /// URL of the Redis server.
    pub redis_url: String,
}

impl ClusterServices {
    /// The services `scripts/services up` started for every test.
    pub fn shared() -> Self {
        Self {
            kafka_brokers: services::kafka_brokers(),
            mongodb_uri: services::mongodb_uri(),
            redis_url: services::redis_url(),
        }
    }
}

/// Presence lease of the test clusters: short, so a killed instance's users go
/// offline quickly (production default: 30 s).
pub const TEST_LEASE_SECONDS: u64 = 3;

/// Instances of one cluster; an index names each (`node(0)`, `kill(1)`, `restart(1)`).
pub struct TestCluster {
    env: Vec<(String, String)>,
    namespace: String,
    nodes: Vec<Option<TestServer>>,
}

impl TestCluster {
    /// Starts `size` instances on the shared services, with `community_url` as their
    /// community service (membership and room lists shared by all instances), and
    /// waits until every one is ready.
    pub async fn start(size: usize, community_url: &str) -> Self {
        Self::start_on(size, community_url, &ClusterServices::shared()).await
    }

    /// As [`Self::start`], on the given services.
    pub async fn start_on(size: usize, community_url: &str, on: &ClusterServices) -> Self {
        Self::start_with(size, community_url, on, &[]).await
    }

    /// As [`Self::start_on`], with extra `CHAT_*` settings for every instance.
    pub async fn start_with(
        size: usize,
        community_url: &str,
        on: &ClusterServices,
        extra: &[(&str, &str)],
    ) -> Self {
        let namespace = services::unique_name("c").replace('-', "");
        let env = [
            ("CHAT_COMMUNITY__BASE_URL", community_url.to_owned()),
            ("CHAT_KAFKA__BROKERS", on.kafka_brokers.clone()),
            // Consumers join in about a second instead of three.
            ("CHAT_KAFKA__SESSION_TIMEOUT_MS", "2000".to_owned()),
            ("CHAT_KAFKA__HEARTBEAT_INTERVAL_MS", "500".to_owned()),
            ("CHAT_MONGO__URI", on.mongodb_uri.clone()),
            ("CHAT_MONGO__DATABASE", format!("chat_{namespace}")),
            ("CHAT_REDIS__URL", on.redis_url.clone()),
            ("CHAT_REDIS__KEY_PREFIX", format!("{namespace}:")),
            ("CHAT_REDIS__LEASE_SECONDS", TEST_LEASE_SECONDS.to_string()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .chain(
            [
                ("CHAT", "chat"),
                ("CHANNEL", "channel"),
                ("ETC_DIRECT", "etc_direct"),
                ("ETC_COMMUNITY", "etc_community"),
                ("FILE", "file"),
                ("STATE", "state"),
            ]
            .into_iter()
            .map(|(key, topic)| {
                (
                    format!("CHAT_KAFKA__TOPICS__{key}"),
                    format!("{topic}-{namespace}"),
                )
            }),
        )
        .chain(
            extra
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
        )
        .collect();
        let mut cluster = Self {
            env,
            namespace,
            nodes: Vec::new(),
        };
        for index in 0..size {
            let node = cluster.spawn(index);
            cluster.nodes.push(Some(node));
        }
        for index in 0..size {
            cluster.wait_ready(index).await;
        }
        cluster
    }

    fn spawn(&self, index: usize) -> TestServer {
        let instance = format!("node{index}-{}", self.namespace);
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        env.push(("CHAT_INSTANCE_ID", &instance));
        TestServer::start_with(&env)
    }

    /// The running instance `index`.
    pub fn node(&self, index: usize) -> &TestServer {
        self.nodes[index]
            .as_ref()
            .unwrap_or_else(|| panic!("instance {index} is not running"))
    }

    /// Kills instance `index` with SIGKILL: no goodbye, its sessions are orphaned.
    pub fn kill(&mut self, index: usize) {
        let node = self.nodes[index].take().expect("instance is running");
        drop(node); // TestServer's drop is a SIGKILL
    }

    /// Starts instance `index` again with the same configuration and waits until it is ready.
    pub async fn restart(&mut self, index: usize) {
        assert!(self.nodes[index].is_none(), "instance {index} still runs");
        let node = self.spawn(index);
        self.nodes[index] = Some(node);
        self.wait_ready(index).await;
    }

    /// Waits (up to 60 s) until instance `index` answers `/readyz` with 200: its
    /// consumers have their partitions, so it hears every instance from now on.
    pub async fn wait_ready(&self, index: usize) {
        let url = format!("{}/readyz", self.node(index).http_url());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("HTTP client");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        while Instant::now() < deadline {
            match http.get(&url).send().await {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => last = response.text().await.unwrap_or_default(),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("instance {index} not ready within 60 s: {last}");
    }
}

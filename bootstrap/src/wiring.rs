//! The one place that chooses an adapter for each driven port: one `match` over that
//! port's settings, in process unless configuration names a real service (cluster mode:
//! Kafka, MongoDB, Redis, S3; the lobby: the state server, the community service and the
//! auth service), each chosen independently. Each real service's readiness probe is
//! registered where its adapter is chosen.
//!
//! The technologies that pull heavy clients are Cargo features (`kafka`, `mongo`, `redis`,
//! `s3`): configuring one this binary was built without stops start-up naming the feature.

// One `match` per port, `Some(settings)` against `None`, even where an `if let` would do:
// every choice reads the same way, and a feature-gated arm is one `cfg` away.
#![allow(clippy::single_match_else)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use adapter_files::{FileBackend, FilesSettings, LinkSigner, LocalDiskFileStore};
use adapter_jwt::JwtTokenVerifier;
use adapter_memory::{
    ClaimsUserDirectory, MemoryEventBus, MemoryMessageStore, MemoryPresenceStore,
    MemoryReadMarkers, MemoryStateServer, OpenCommunityDirectory, SystemClock, TokenBucketLimiter,
};
use adapter_stomp::SubscriptionHub;
use application::Adapters;
use application::ports::outbound::{
    CommunityDirectory, EventBus, FileStore, MessageStore, PresenceStore, RateLimiter, ReadMarkers,
    SessionStateGateway, UserDirectory,
};
use application::usecases::{ChannelBinding, FileLimits};

use metric_names::Dependency;

use crate::Settings;
use crate::readiness::{Importance, Readiness};

/// The real-service features this binary was built with (`chat-server features` prints them).
pub const BUILT_IN_FEATURES: &[&str] = &[
    #[cfg(feature = "kafka")]
    "kafka",
    #[cfg(feature = "mongo")]
    "mongo",
    #[cfg(feature = "redis")]
    "redis",
    #[cfg(feature = "s3")]
    "s3",
];

/// Every driven port with its adapter, and what the composition root needs besides.
pub struct Wired {
    /// The adapters the use cases are built over.
    pub adapters: Adapters,
    /// This instance's subscribers (the STOMP sessions), also the use cases' broadcaster.
    pub hub: Arc<SubscriptionHub>,
    /// The probes of `/readyz`, one per dependency.
    pub readiness: Readiness,
    /// The local files directory this server serves at `/files/{key}`, if files are local.
    pub local_files: Option<Arc<LocalDiskFileStore>>,
    /// How often this instance's presence lease must be renewed, when presence is shared.
    pub lease_renewal: Option<Duration>,
    /// Which adapter serves each port, for the start-up log.
    pub in_use: Vec<(&'static str, &'static str)>,
}

/// A port's adapter, and its name for the start-up log.
struct Choice<T: ?Sized> {
    port: Arc<T>,
    adapter: &'static str,
}

fn chosen<T: ?Sized>(port: Arc<T>, adapter: &'static str) -> Choice<T> {
    Choice { port, adapter }
}

/// The error of a configuration that needs an adapter this binary was built without.
#[cfg_attr(
    all(
        feature = "kafka",
        feature = "mongo",
        feature = "redis",
        feature = "s3"
    ),
    allow(dead_code)
)]
fn missing_feature(table: &str, feature: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{table} is configured but this chat-server was built without the `{feature}` feature: \
         rebuild with `cargo build --release --features {feature}` (or `--features cluster` for \
         every real service)"
    )
}

/// Builds the adapters configuration asks for, connecting to each real service
/// (a clear error names the one that is unreachable or not built in).
pub async fn wire(settings: &Settings) -> anyhow::Result<Wired> {
    let mut readiness = Readiness::default();
    let (store, markers) = message_store(settings, &mut readiness).await?;
    let bus = event_bus(settings, &mut readiness).await?;
    let shared = redis(settings, &mut readiness).await?;
    let source = community_source(settings, &mut readiness)?;
    let directory = membership(source, shared.as_ref());
    let presence = presence_store(settings, shared.as_ref());
    let limiter = rate_limiter(settings, shared.as_ref())?;
    let state = state_server(settings, &mut readiness)?;
    let users = user_directory(settings, &mut readiness)?;
    let (files, local_files) = file_store(&settings.files, &mut readiness).await?;
    let hub = Arc::new(SubscriptionHub::new(settings.stomp.outbound_limits()));
    let in_use = vec![
        ("message_store", store.adapter),
        ("read_markers", markers.adapter),
        ("event_bus", bus.adapter),
        ("presence", presence.adapter),
        ("rate_limiter", limiter.adapter),
        ("community_directory", directory.adapter),
        ("state_server", state.adapter),
        ("users", users.adapter),
        ("file_store", files.adapter),
    ];
    let adapters = Adapters {
        store: store.port,
        markers: markers.port,
        bus: bus.port,
        presence: presence.port,
        state: state.port,
        directory: directory.port,
        users: users.port,
        tokens: Arc::new(JwtTokenVerifier::new(&settings.jwt)?),
        clock: Arc::new(SystemClock),
        ids: Arc::new(adapter_memory::RandomIds::default()),
        limiter: limiter.port,
        files: files.port,
        broadcaster: hub.clone(),
        backlog: hub.clone(),
        publish_patience: settings.stomp.overload_wait(),
        file_limits: file_limits(&settings.files),
        channel_binding: crate::community::channel_binding(settings),
    };
    Ok(Wired {
        adapters,
        hub,
        readiness,
        local_files,
        lease_renewal: shared.map(|redis| redis.lease_renewal),
        in_use,
    })
}

#[cfg_attr(not(feature = "mongo"), allow(clippy::unused_async))]
async fn message_store(
    settings: &Settings,
    readiness: &mut Readiness,
) -> anyhow::Result<(Choice<dyn MessageStore>, Choice<dyn ReadMarkers>)> {
    match &settings.mongo {
        #[cfg(feature = "mongo")]
        Some(mongo) => {
            let connected = adapter_mongo::MongoStore::connect(mongo)
                .await
                .context("cannot use MongoDB ([mongo])")?;
            let probed = connected.clone();
            readiness.service(
                &[Dependency::MessageStore, Dependency::ReadMarkers],
                Importance::Essential,
                move || {
                    let mongo = probed.clone();
                    async move { mongo.ping().await }
                },
            );
            Ok((
                chosen(Arc::new(connected.messages()), "mongo"),
                chosen(Arc::new(connected.markers()), "mongo"),
            ))
        }
        #[cfg(not(feature = "mongo"))]
        Some(_) => Err(missing_feature("[mongo]", "mongo")),
        None => {
            readiness.in_process(
                &[Dependency::MessageStore, Dependency::ReadMarkers],
                Importance::Essential,
            );
            Ok((
                chosen(Arc::new(MemoryMessageStore::default()), "memory"),
                chosen(Arc::new(MemoryReadMarkers::default()), "memory"),
            ))
        }
    }
}

#[cfg_attr(not(feature = "kafka"), allow(clippy::unused_async))]
async fn event_bus(
    settings: &Settings,
    readiness: &mut Readiness,
) -> anyhow::Result<Choice<dyn EventBus>> {
    match &settings.kafka {
        #[cfg(feature = "kafka")]
        Some(kafka) => {
            let bus = Arc::new(
                adapter_kafka::KafkaEventBus::start(kafka, &settings.instance_id())
                    .await
                    .context("cannot use Kafka ([kafka])")?,
            );
            let probed = bus.clone();
            readiness.service(&[Dependency::EventBus], Importance::Essential, move || {
                let bus = probed.clone();
                async move { bus.readiness().await }
            });
            Ok(chosen(bus, "kafka"))
        }
        #[cfg(not(feature = "kafka"))]
        Some(_) => Err(missing_feature("[kafka]", "kafka")),
        None => {
            readiness.in_process(&[Dependency::EventBus], Importance::Essential);
            Ok(chosen(Arc::new(MemoryEventBus::default()), "memory"))
        }
    }
}

/// The Redis connection shared by presence, the rate limiter and the member cache.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
struct SharedRedis {
    #[cfg(feature = "redis")]
    connection: adapter_redis::RedisConnection,
    #[cfg(feature = "redis")]
    settings: adapter_redis::RedisSettings,
    lease_renewal: Duration,
}

#[cfg_attr(not(feature = "redis"), allow(clippy::unused_async))]
async fn redis(
    settings: &Settings,
    readiness: &mut Readiness,
) -> anyhow::Result<Option<SharedRedis>> {
    match &settings.redis {
        #[cfg(feature = "redis")]
        Some(redis) => {
            let connection = adapter_redis::RedisConnection::connect(redis)
                .await
                .context("cannot use Redis ([redis])")?;
            let probed = connection.clone();
            readiness.service(
                &[Dependency::Presence, Dependency::RateLimiter],
                Importance::Essential,
                move || {
                    let redis = probed.clone();
                    async move { redis.ping().await }
                },
            );
            // Several renewals per lease period, so one late renewal does not lose it.
            let lease_renewal =
                Duration::from_millis(redis.lease_seconds.max(1).saturating_mul(1000) / 3);
            Ok(Some(SharedRedis {
                connection,
                settings: redis.clone(),
                lease_renewal,
            }))
        }
        #[cfg(not(feature = "redis"))]
        Some(_) => Err(missing_feature("[redis]", "redis")),
        None => {
            readiness.in_process(
                &[Dependency::Presence, Dependency::RateLimiter],
                Importance::Essential,
            );
            Ok(None)
        }
    }
}

#[cfg_attr(not(feature = "redis"), allow(unused_variables))]
fn presence_store(settings: &Settings, shared: Option<&SharedRedis>) -> Choice<dyn PresenceStore> {
    #[cfg(feature = "redis")]
    if let Some(redis) = shared {
        return chosen(
            Arc::new(adapter_redis::RedisPresenceStore::new(
                redis.connection.clone(),
                &settings.instance_id(),
                &redis.settings,
            )),
            "redis",
        );
    }
    chosen(Arc::new(MemoryPresenceStore::default()), "memory")
}

#[cfg_attr(not(feature = "redis"), allow(unused_variables))]
fn rate_limiter(
    settings: &Settings,
    shared: Option<&SharedRedis>,
) -> anyhow::Result<Choice<dyn RateLimiter>> {
    let rates = crate::rate_limits::rates(&settings.limits)?;
    #[cfg(feature = "redis")]
    if let Some(redis) = shared {
        // While Redis cannot answer, each instance limits on its own, more strictly.
        let fallback = TokenBucketLimiter::new(rates.scaled(settings.limits.outage_factor));
        return Ok(chosen(
            Arc::new(adapter_redis::RedisRateLimiter::new(
                redis.connection.clone(),
                &redis.settings,
                rates,
                fallback,
            )),
            "redis",
        ));
    }
    Ok(chosen(Arc::new(TokenBucketLimiter::new(rates)), "memory"))
}

fn community_source(
    settings: &Settings,
    readiness: &mut Readiness,
) -> anyhow::Result<Choice<dyn CommunityDirectory>> {
    match &settings.community.service {
        Some(http) => {
            let directory = adapter_community_http::HttpCommunityDirectory::new(http)
                .context("invalid [community] settings")?;
            let directory = Arc::new(
                if crate::community::channel_binding(settings) == ChannelBinding::FirstPost {
                    directory.without_channel_lookup()
                } else {
                    directory
                },
            );
            let probed = directory.clone();
            readiness.service(
                &[Dependency::CommunityService],
                Importance::Degradable,
                move || {
                    let directory = probed.clone();
                    async move { directory.ping().await }
                },
            );
            Ok(chosen(directory, "community-http"))
        }
        None => {
            readiness.in_process(&[Dependency::CommunityService], Importance::Degradable);
            Ok(chosen(Arc::new(OpenCommunityDirectory::default()), "open"))
        }
    }
}

/// The directory the use cases ask: the source itself, or the source behind the Redis
/// member cache shared by every instance.
#[cfg_attr(not(feature = "redis"), allow(unused_variables))]
fn membership(
    source: Choice<dyn CommunityDirectory>,
    shared: Option<&SharedRedis>,
) -> Choice<dyn CommunityDirectory> {
    #[cfg(feature = "redis")]
    if let Some(redis) = shared {
        return chosen(
            Arc::new(adapter_redis::RedisCachedDirectory::new(
                source.port,
                redis.connection.clone(),
                &redis.settings,
            )),
            if source.adapter == "open" {
                "open, cached in redis"
            } else {
                "community-http, cached in redis"
            },
        );
    }
    source
}

fn state_server(
    settings: &Settings,
    readiness: &mut Readiness,
) -> anyhow::Result<Choice<dyn SessionStateGateway>> {
    match &settings.state_server {
        Some(tcp) => {
            let server = Arc::new(
                adapter_state_tcp::TcpStateServer::new(tcp)
                    .context("invalid [state_server] settings")?,
            );
            let probed = server.clone();
            readiness.service(
                &[Dependency::StateServer],
                Importance::Degradable,
                move || {
                    let server = probed.clone();
                    async move { server.ping().await }
                },
            );
            Ok(chosen(server, "state-tcp"))
        }
        None => {
            readiness.in_process(&[Dependency::StateServer], Importance::Degradable);
            Ok(chosen(Arc::new(MemoryStateServer::default()), "memory"))
        }
    }
}

fn user_directory(
    settings: &Settings,
    readiness: &mut Readiness,
) -> anyhow::Result<Choice<dyn UserDirectory>> {
    match &settings.auth {
        Some(http) => {
            let directory = Arc::new(
                adapter_auth_http::HttpUserDirectory::new(http)
                    .context("invalid [auth] settings")?,
            );
            let probed = directory.clone();
            readiness.service(
                &[Dependency::AuthService],
                Importance::Degradable,
                move || {
                    let directory = probed.clone();
                    async move { directory.ping().await }
                },
            );
            Ok(chosen(directory, "auth-http"))
        }
        None => {
            readiness.in_process(&[Dependency::AuthService], Importance::Degradable);
            Ok(chosen(
                Arc::new(ClaimsUserDirectory::default()),
                "token claims",
            ))
        }
    }
}

async fn file_store(
    settings: &FilesSettings,
    readiness: &mut Readiness,
) -> anyhow::Result<(Choice<dyn FileStore>, Option<Arc<LocalDiskFileStore>>)> {
    let timeout = Duration::from_millis(settings.timeout_ms.max(1));
    match settings.backend {
        FileBackend::Local => {
            let store = Arc::new(
                LocalDiskFileStore::open(
                    &settings.directory(),
                    &settings.public_base_url,
                    timeout,
                    link_signer(settings)?,
                )
                .await
                .context("cannot use the files directory ([files])")?,
            );
            // Chat goes on without file storage; only uploads fail.
            readiness.in_process(&[Dependency::FileStore], Importance::Degradable);
            Ok((chosen(store.clone(), "local disk"), Some(store)))
        }
        #[cfg(feature = "s3")]
        FileBackend::S3 => {
            let store = Arc::new(
                adapter_files::S3FileStore::new(settings).context("cannot use S3 ([files.s3])")?,
            );
            let probed = store.clone();
            readiness.service(
                &[Dependency::FileStore],
                Importance::Degradable,
                move || {
                    let store = probed.clone();
                    async move { store.ping().await.map_err(anyhow::Error::new) }
                },
            );
            Ok((chosen(store, "s3"), None))
        }
        #[cfg(not(feature = "s3"))]
        FileBackend::S3 => Err(missing_feature("files.backend = \"s3\"", "s3")),
    }
}

fn link_signer(settings: &FilesSettings) -> anyhow::Result<LinkSigner> {
    let ttl = Duration::from_secs(settings.link_ttl_seconds.max(1));
    if settings.link_secret.expose_secret().is_empty() {
        return Ok(LinkSigner::random(ttl));
    }
    LinkSigner::new(settings.link_secret.expose_secret().as_bytes(), ttl)
        .context("invalid files.link_secret")
}

fn file_limits(settings: &FilesSettings) -> FileLimits {
    FileLimits {
        max_bytes: settings.max_bytes,
        allowed_types: settings.allowed_types.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::with_overrides;

    #[tokio::test]
    async fn with_nothing_configured_every_port_is_served_in_process() {
        let wired = wire(&with_overrides(&[])).await.expect("wired");
        for (port, adapter) in &wired.in_use {
            assert!(
                ["memory", "open", "token claims", "local disk"].contains(adapter),
                "{port} is served by {adapter}"
            );
        }
        assert!(wired.local_files.is_some());
        assert!(wired.lease_renewal.is_none());
        let (ready, report) = wired.readiness.report().await;
        assert!(ready, "{report}");
        assert_eq!(report["dependencies"]["event_bus"], "in-process");
    }

    #[tokio::test]
    async fn a_service_this_build_lacks_stops_start_up_naming_the_feature() {
        for (feature, table, setting) in [
            ("kafka", "[kafka]", ("kafka.brokers", "127.0.0.1:9092")),
            (
                "mongo",
                "[mongo]",
                ("mongo.uri", "mongodb://127.0.0.1:27017"),
            ),
            ("redis", "[redis]", ("redis.url", "redis://127.0.0.1:6379")),
            ("s3", "files.backend", ("files.backend", "s3")),
        ] {
            if BUILT_IN_FEATURES.contains(&feature) {
                continue;
            }
            let said = match wire(&with_overrides(&[setting])).await {
                Ok(_) => panic!("{setting:?} was accepted by a build without `{feature}`"),
                Err(error) => format!("{error:#}"),
            };
            assert!(
                said.contains(table) && said.contains(&format!("`{feature}` feature")),
                "{said}"
            );
        }
    }
}

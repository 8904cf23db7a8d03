//! The adapters: every outbound port in process memory (embedded mode), except
//! those configuration points at a real service (cluster mode: Kafka, MongoDB, Redis;
//! the lobby: the state server, the community service and the auth service), each chosen
//! independently.

use std::sync::Arc;

use anyhow::Context as _;

use adapter_jwt::JwtTokenVerifier;
use adapter_kafka::KafkaEventBus;
use adapter_memory::{
    ClaimsUserDirectory, MemoryEventBus, MemoryMessageStore, MemoryPresenceStore,
    MemoryReadMarkers, MemoryStateServer, OpenCommunityDirectory, RandomIds, SystemClock,
};
use adapter_mongo::MongoStore;
use adapter_redis::{RedisCachedDirectory, RedisConnection, RedisPresenceStore};
use adapter_stomp::SubscriptionHub;
use application::Adapters;
use application::ports::outbound::Ports;
use application::usecases::ChannelBinding;

use crate::Settings;
use crate::community_directory::{Directory, Membership};
use crate::event_bus::Bus;
use crate::file_store::Files;
use crate::message_store::{Markers, Store};
use crate::presence_store::Presence;
use crate::rate_limiter::Limiter;
use crate::state_server::StateServer;
use crate::user_directory::Users;

/// The port bundle of this server: in-process adapters unless configuration names a real service.
pub struct ServerPorts;

impl Ports for ServerPorts {
    type Store = Store;
    type Markers = Markers;
    type Bus = Bus;
    type Presence = Presence;
    type State = StateServer;
    type Directory = Membership;
    type Users = Users;
    type Tokens = JwtTokenVerifier;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Limiter = Limiter;
    type Files = Files;
    type Broadcaster = SubscriptionHub;
}

/// Connections to the real services in use, kept for `/readyz`.
#[derive(Clone, Default)]
pub struct Services {
    /// MongoDB, when configured.
    pub mongo: Option<MongoStore>,
    /// Redis, when configured.
    pub redis: Option<RedisConnection>,
}

/// Builds the adapters configuration asks for, connecting to each real service
/// (a clear error names the one that is unreachable).
pub async fn adapters(settings: &Settings) -> anyhow::Result<(Adapters<ServerPorts>, Services)> {
    let instance = settings.instance_id();
    let mut services = Services::default();
    let (store, markers) = match &settings.mongo {
        Some(mongo) => {
            let connected = MongoStore::connect(mongo)
                .await
                .context("cannot use MongoDB ([mongo])")?;
            let pair = (
                Store::Mongo(connected.messages()),
                Markers::Mongo(connected.markers()),
            );
            services.mongo = Some(connected);
            pair
        }
        None => (
            Store::Memory(MemoryMessageStore::default()),
            Markers::Memory(MemoryReadMarkers::default()),
        ),
    };
    let bus = match &settings.kafka {
        Some(kafka) => Bus::Kafka(Box::new(
            KafkaEventBus::start(kafka, &instance)
                .await
                .context("cannot use Kafka ([kafka])")?,
        )),
        None => Bus::Memory(MemoryEventBus::default()),
    };
    let (presence, limiter) = match &settings.redis {
        Some(redis) => {
            let connected = RedisConnection::connect(redis)
                .await
                .context("cannot use Redis ([redis])")?;
            let store = RedisPresenceStore::new(connected.clone(), &instance, redis);
            let limiter = Limiter::shared(&settings.limits, connected.clone(), redis)?;
            services.redis = Some(connected);
            (Presence::Redis(store), limiter)
        }
        None => (
            Presence::Memory(MemoryPresenceStore::default()),
            Limiter::in_process(&settings.limits)?,
        ),
    };
    let source = match &settings.community.service {
        Some(http) => {
            let directory = adapter_community_http::HttpCommunityDirectory::new(http)
                .context("invalid [community] settings")?;
            Directory::Http(Box::new(
                if crate::community::channel_binding(settings) == ChannelBinding::FirstPost {
                    directory.without_channel_lookup()
                } else {
                    directory
                },
            ))
        }
        None => Directory::Open(OpenCommunityDirectory::default()),
    };
    let directory = match (&settings.redis, &services.redis) {
        (Some(redis), Some(connected)) => {
            Membership::Cached(RedisCachedDirectory::new(source, connected.clone(), redis))
        }
        _ => Membership::Uncached(source),
    };
    let files = Files::open(&settings.files).await?;
    let adapters = Adapters {
        store: Arc::new(store),
        markers: Arc::new(markers),
        bus: Arc::new(bus),
        presence: Arc::new(presence),
        state: Arc::new(match &settings.state_server {
            Some(tcp) => StateServer::Tcp(
                adapter_state_tcp::TcpStateServer::new(tcp)
                    .context("invalid [state_server] settings")?,
            ),
            None => StateServer::Memory(MemoryStateServer::default()),
        }),
        directory: Arc::new(directory),
        users: Arc::new(match &settings.auth {
            Some(http) => Users::Http(Box::new(
                adapter_auth_http::HttpUserDirectory::new(http)
                    .context("invalid [auth] settings")?,
            )),
            None => Users::Claims(ClaimsUserDirectory::default()),
        }),
        tokens: Arc::new(JwtTokenVerifier::new(&settings.jwt)?),
        clock: Arc::new(SystemClock),
        ids: Arc::default(),
        limiter: Arc::new(limiter),
        files: Arc::new(files),
        broadcaster: Arc::new(SubscriptionHub::default()),
        file_limits: crate::file_store::limits(&settings.files),
        channel_binding: crate::community::channel_binding(settings),
    };
    Ok((adapters, services))
}

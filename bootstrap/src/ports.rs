//! The adapters: every outbound port in process memory (embedded mode), except
//! those configuration points at a real service (so far: the state server and the community service).

use std::sync::Arc;

use anyhow::Context as _;

use adapter_jwt::JwtTokenVerifier;
use adapter_memory::{
    ClaimsUserDirectory, MemoryEventBus, MemoryMessageStore, MemoryPresenceStore,
    MemoryReadMarkers, MemoryStateServer, OpenCommunityDirectory, RandomIds, Rate, Rates,
    SystemClock, TokenBucketLimiter,
};
use application::Adapters;
use application::ports::outbound::Ports;

use crate::Settings;
use crate::community_directory::Directory;
use crate::state_server::StateServer;

/// The port bundle of this server: in-process adapters unless configuration names a real service.
pub struct ServerPorts;

impl Ports for ServerPorts {
    type Store = MemoryMessageStore;
    type Markers = MemoryReadMarkers;
    type Bus = MemoryEventBus;
    type Presence = MemoryPresenceStore;
    type State = StateServer;
    type Directory = Directory;
    type Users = ClaimsUserDirectory;
    type Tokens = JwtTokenVerifier;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Limiter = TokenBucketLimiter;
}

/// Builds the embedded adapters.
pub fn adapters(settings: &Settings) -> anyhow::Result<Adapters<ServerPorts>> {
    Ok(Adapters {
        store: Arc::default(),
        markers: Arc::default(),
        bus: Arc::default(),
        presence: Arc::default(),
        state: Arc::new(match &settings.state_server {
            Some(tcp) => StateServer::Tcp(
                adapter_state_tcp::TcpStateServer::new(tcp)
                    .context("invalid [state_server] settings")?,
            ),
            None => StateServer::Memory(MemoryStateServer::default()),
        }),
        directory: Arc::new(match &settings.community {
            Some(http) => Directory::Http(
                adapter_community_http::HttpCommunityDirectory::new(http)
                    .context("invalid [community] settings")?,
            ),
            None => Directory::Open(OpenCommunityDirectory::default()),
        }),
        users: Arc::default(),
        tokens: Arc::new(JwtTokenVerifier::new(&settings.jwt)?),
        clock: Arc::new(SystemClock),
        ids: Arc::default(),
        limiter: Arc::new(TokenBucketLimiter::new(Rates {
            write: Rate {
                per_second: settings.limits.write_per_second,
                burst: settings.limits.write_burst,
            },
            read: Rate {
                per_second: settings.limits.read_per_second,
                burst: settings.limits.read_burst,
            },
        })),
    })
}

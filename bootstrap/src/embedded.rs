//! Embedded mode: every outbound port in process memory.

use std::sync::Arc;

use adapter_jwt::JwtTokenVerifier;
use adapter_memory::{
    ClaimsUserDirectory, MemoryEventBus, MemoryMessageStore, MemoryPresenceStore,
    MemoryReadMarkers, MemoryStateServer, OpenCommunityDirectory, RandomIds, SystemClock,
};
use application::Adapters;
use application::ports::outbound::Ports;

use crate::Settings;

/// The port bundle of embedded mode.
pub struct Embedded;

impl Ports for Embedded {
    type Store = MemoryMessageStore;
    type Markers = MemoryReadMarkers;
    type Bus = MemoryEventBus;
    type Presence = MemoryPresenceStore;
    type State = MemoryStateServer;
    type Directory = OpenCommunityDirectory;
    type Users = ClaimsUserDirectory;
    type Tokens = JwtTokenVerifier;
    type Clock = SystemClock;
    type Ids = RandomIds;
}

/// Builds the embedded adapters.
pub fn adapters(settings: &Settings) -> anyhow::Result<Adapters<Embedded>> {
    Ok(Adapters {
        store: Arc::default(),
        markers: Arc::default(),
        bus: Arc::default(),
        presence: Arc::default(),
        state: Arc::default(),
        directory: Arc::default(),
        users: Arc::default(),
        tokens: Arc::new(JwtTokenVerifier::new(&settings.jwt)?),
        clock: Arc::new(SystemClock),
        ids: Arc::default(),
    })
}

//! The state server chosen by configuration: the in-memory stand-in (embedded
//! mode) or the real one over TCP (`[state_server]` present, which counts its own
//! degraded calls).

use adapter_memory::MemoryStateServer;
use adapter_state_tcp::TcpStateServer;
use application::ports::outbound::{GatewayError, SessionStateGateway};
use domain::{
    ChannelId, CommunityId, Location, LocationChange, Session, SessionId, UserId, VoiceOccupancy,
};

/// One of the two state-server adapters; delegates every call to it.
pub enum StateServer {
    /// In process.
    Memory(MemoryStateServer),
    /// The app's external state server.
    Tcp(TcpStateServer),
}

impl StateServer {
    /// `None` when in process; else whether the state server is reachable.
    pub async fn readiness(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Memory(_) => None,
            Self::Tcp(server) => Some(server.ping().await),
        }
    }
}

impl SessionStateGateway for StateServer {
    async fn login(&self, session: &Session) -> Result<(), GatewayError> {
        match self {
            Self::Memory(server) => server.login(session).await,
            Self::Tcp(server) => server.login(session).await,
        }
    }

    async fn logout(&self, session: &SessionId) -> Result<Option<Location>, GatewayError> {
        match self {
            Self::Memory(server) => server.logout(session).await,
            Self::Tcp(server) => server.logout(session).await,
        }
    }

    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, GatewayError> {
        match self {
            Self::Memory(server) => server.change_location(user, to).await,
            Self::Tcp(server) => server.change_location(user, to).await,
        }
    }

    async fn before_enter(
        &self,
        user: UserId,
        community: CommunityId,
    ) -> Result<VoiceOccupancy, GatewayError> {
        match self {
            Self::Memory(server) => server.before_enter(user, community).await,
            Self::Tcp(server) => server.before_enter(user, community).await,
        }
    }

    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: ChannelId,
    ) -> Result<VoiceOccupancy, GatewayError> {
        match self {
            Self::Memory(server) => server.enter_voice(user, community, channel).await,
            Self::Tcp(server) => server.enter_voice(user, community, channel).await,
        }
    }
}

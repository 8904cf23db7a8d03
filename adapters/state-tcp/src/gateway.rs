//! [`TcpStateServer`]: the session state port spoken to the seed's state (presence) server.
//! Every call that fails is counted in
//! `chat_dependency_degraded_total{dependency="state_server"}`: the use cases carry on without
//! its answer (degraded mode).

use anyhow::Context as _;
use application::ports::outbound::{GatewayError, SessionStateGateway};
use domain::{
    ChannelId, CommunityId, Location, LocationChange, Session, SessionId, UserId, VoiceOccupancy,
};
use metric_names::Dependency;
use tracing::Instrument as _;

use crate::pool::Pool;
use crate::request::{self, Request};
use crate::{StateTcpSettings, WireFormat, reply};

/// The state server over TCP. Cheap to share behind an `Arc`; connections are opened on first
/// use and re-opened after failures, so constructing one never touches the network.
#[derive(Debug)]
pub struct TcpStateServer {
    pool: Pool,
    format: WireFormat,
}

impl TcpStateServer {
    /// Checks `settings`; no connection is made until the first call.
    pub fn new(settings: &StateTcpSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        Ok(Self {
            pool: Pool::new(settings),
            format: settings.format,
        })
    }

    /// Whether the state server accepts connections now (for readiness checks: the
    /// seed's protocol has no ping request, so this only opens and closes a socket).
    pub async fn ping(&self) -> anyhow::Result<()> {
        let address = self.pool.address();
        tokio::time::timeout(
            self.pool.connect_timeout(),
            tokio::net::TcpStream::connect(address),
        )
        .await
        .map_err(|_| {
            anyhow::anyhow!("state server at {address} did not accept a connection in time")
        })?
        .map(drop)
        .map_err(|e| anyhow::anyhow!("state server at {address} is unreachable: {e}"))
    }

    /// Sends `request` and reads its reply with `parse`, in a `state_tcp.request` span. Only the
    /// request type and the server's address are recorded: lines carry session ids, which are
    /// not for logs.
    async fn exchange<T>(
        &self,
        request: Request<'_>,
        parse: impl FnOnce(&str) -> anyhow::Result<T>,
    ) -> Result<T, GatewayError> {
        let kind = request.kind();
        let span = tracing::info_span!(
            "state_tcp.request",
            request = kind,
            address = self.pool.address()
        );
        async {
            let line = request::render(&request, self.format)?;
            let reply = self.pool.round_trip(&line).await?;
            parse(&reply).with_context(|| format!("state server at {}", self.pool.address()))
        }
        .instrument(span.clone())
        .await
        .map_err(|error| {
            // The causes name the address; this names the request.
            let error = error.context(format!("`{kind}` request to the state server failed"));
            span.in_scope(|| {
                tracing::debug!(error = format!("{error:#}"), "state server call failed");
            });
            metric_names::dependency_degraded(Dependency::StateServer).increment(1);
            GatewayError::Unavailable(error)
        })
    }
}

#[async_trait::async_trait]
impl SessionStateGateway for TcpStateServer {
    async fn login(&self, session: &Session) -> Result<(), GatewayError> {
        // The seed answers `반환메세지` ("return message"); any line will do.
        self.exchange(
            Request::Login {
                session: &session.id,
                user: session.user,
            },
            |_| Ok(()),
        )
        .await
    }

    async fn logout(&self, session: &SessionId) -> Result<Option<Location>, GatewayError> {
        let logged_out = self
            .exchange(Request::Logout { session }, reply::logout)
            .await?;
        tracing::debug!(
            user = logged_out.user.map(UserId::get),
            last_location = logged_out.last_location.map(tracing::field::display),
            "state server logged the session out"
        );
        Ok(logged_out.last_location)
    }

    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, GatewayError> {
        let previous = self
            .exchange(Request::State { user, to }, |text| reply::state(text, to))
            .await?;
        Ok(LocationChange {
            previous,
            current: to,
        })
    }

    async fn before_enter(
        &self,
        user: UserId,
        community: CommunityId,
    ) -> Result<VoiceOccupancy, GatewayError> {
        self.exchange(Request::BeforeEnter { user, community }, |text| {
            reply::occupancy(text, community)
        })
        .await
    }

    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: ChannelId,
    ) -> Result<VoiceOccupancy, GatewayError> {
        self.exchange(
            Request::Enter {
                user,
                community,
                channel,
            },
            |text| reply::occupancy(text, community),
        )
        .await
    }
}

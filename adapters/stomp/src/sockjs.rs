//! The SockJS server protocol at `/my-chat`, what the seed's web client
//! (`sockjs-client` + `webstomp-client`) connects to. It carries the very same STOMP
//! sessions as the raw WebSocket endpoint: SockJS is only another transport of
//! `transport`.
//!
//! URLs (under the mount point): the greeting `/`, `/info`, and per session
//! `/{server}/{session}/` + `websocket`, `xhr_streaming`, `eventsource`, `xhr`
//! (polling) and `xhr_send` (client → server for the HTTP transports).
//!
//! - `frame`: SockJS framing; `session`: one session's queue and receiver slot;
//! - `registry`: HTTP sessions by id; `receive`, `send`, `websocket`: the transports;
//! - `http`: CORS, caching and error responses; `info`: greeting and `/info`.
//!
//! STOMP heart-beats per transport (`heart-beat: cx,cy` in CONNECTED): the configured
//! offer (`10000,10000` by default) on `websocket`, `xhr_streaming` and `eventsource`,
//! whose server writes reach the client at once; on `xhr` polling `0,10000`: a server
//! heart-beat could only travel on the next poll, so none is promised (SockJS answers
//! an idle poll with `h` every `heartbeat_ms` instead), while the client's heart-beats
//! reach the server at once on `xhr_send`.
//!
//! Liveness: an HTTP session without a receiving request for `disconnect_delay_ms` is
//! closed, which ends its STOMP session (its rooms hear `disconnect`). A receiving
//! request whose client vanished without closing it is only noticed when a write to it
//! fails, so a vanished client is found by the STOMP heart-beats (twice the period,
//! 20 s by default) or, on polling, by the next `h` plus the disconnect delay.

mod frame;
mod http;
mod info;
mod receive;
mod registry;
mod send;
mod session;
mod settings;
mod websocket;

use std::sync::Arc;
use std::time::Duration;

use poem::{Request, Route};
use tracing::Instrument as _;

pub use settings::SockJsSettings;

use self::frame::ServerFrame;
use self::registry::Registry;
use self::session::{SessionInbound, SessionOutbound, SockJsSession};
use crate::caps::SocketPermit;
use crate::server::StompServer;
use crate::transport::HeartBeatOffer;

/// What the SockJS URLs share.
pub(crate) struct SockJs {
    server: Arc<StompServer>,
    registry: Registry,
}

impl SockJs {
    fn settings(&self) -> &SockJsSettings {
        &self.server.settings.sockjs
    }

    fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.settings().heartbeat_ms.max(1))
    }

    fn disconnect_delay(&self) -> Duration {
        Duration::from_millis(self.settings().disconnect_delay_ms)
    }

    /// Largest client payload: a STOMP frame can grow up to six-fold as JSON.
    fn max_payload_bytes(&self) -> usize {
        self.server.settings.max_frame_bytes.saturating_mul(6) + 1024
    }

    fn open_session(&self) -> (Arc<SockJsSession>, SessionInbound, SessionOutbound) {
        SockJsSession::open(self.server.settings.outbound_queue, self.disconnect_delay())
    }

    /// Runs the STOMP session of a new HTTP session until it ends (its client left,
    /// DISCONNECT, an ERROR, shutdown), then keeps answering its close frame for the
    /// disconnect delay before forgetting it.
    fn start(
        self: &Arc<Self>,
        id: String,
        opened: (Arc<SockJsSession>, SessionInbound, SessionOutbound),
        offer: HeartBeatOffer,
        span: tracing::Span,
        permit: SocketPermit,
    ) {
        let (session, inbound, outbound) = opened;
        let sockjs = self.clone();
        let run = async move {
            let stomp = async {
                sockjs
                    .server
                    .clone()
                    .run_session(outbound, inbound, offer, permit)
                    .await;
                session.close(go_away());
            };
            tokio::join!(stomp, session.expire_when_abandoned());
            tokio::select! {
                () = tokio::time::sleep(sockjs.disconnect_delay()) => {}
                () = sockjs.server.shutdown.cancelled() => {}
            }
            sockjs.registry.remove(&id, &session);
        };
        self.server.spawn_tracked(run.instrument(span));
    }
}

/// The close frame of a session whose STOMP task ended without saying why.
fn go_away() -> ServerFrame {
    ServerFrame::Close(3000, "Go away!".to_owned())
}

/// The request's remote IP address, if it came over TCP.
fn remote_ip(request: &Request) -> Option<std::net::IpAddr> {
    request
        .remote_addr()
        .as_socket_addr()
        .map(std::net::SocketAddr::ip)
}

/// The session id of a session URL, if its `server` and `session` segments are valid
/// (SockJS: non-empty, no dots).
fn session_id(request: &Request) -> Option<&str> {
    let valid = |segment: &str| !segment.is_empty() && !segment.contains('.');
    let server = request.raw_path_param("server")?;
    let session = request.raw_path_param("session")?;
    (valid(server) && valid(session)).then_some(session)
}

/// The SockJS routes, to be nested at `/my-chat`.
pub fn sockjs_endpoint(server: Arc<StompServer>) -> Route {
    let sockjs = Arc::new(SockJs {
        server,
        registry: Registry::default(),
    });
    let greeting = poem::endpoint::make_sync(|request: Request| info::greeting(&request));
    let with = |sockjs: &Arc<SockJs>| sockjs.clone();
    let (polling, streaming, events, sending, socket) = (
        with(&sockjs),
        with(&sockjs),
        with(&sockjs),
        with(&sockjs),
        with(&sockjs),
    );
    Route::new()
        .at("/", greeting)
        .at(
            "/info",
            poem::endpoint::make_sync(|request: Request| info::info(&request)),
        )
        .at(
            "/:server/:session/xhr",
            poem::endpoint::make(move |request: Request| {
                let sockjs = polling.clone();
                async move { receive::receive(&sockjs, &request, receive::Receiving::Polling) }
            }),
        )
        .at(
            "/:server/:session/xhr_streaming",
            poem::endpoint::make(move |request: Request| {
                let sockjs = streaming.clone();
                async move { receive::receive(&sockjs, &request, receive::Receiving::XhrStreaming) }
            }),
        )
        .at(
            "/:server/:session/eventsource",
            poem::endpoint::make(move |request: Request| {
                let sockjs = events.clone();
                async move { receive::receive(&sockjs, &request, receive::Receiving::EventSource) }
            }),
        )
        .at(
            "/:server/:session/xhr_send",
            poem::endpoint::make(move |request: Request| {
                let sockjs = sending.clone();
                async move { send::xhr_send(&sockjs, request).await }
            }),
        )
        .at(
            "/:server/:session/websocket",
            poem::endpoint::make(move |request: Request| {
                let sockjs = socket.clone();
                async move { websocket::upgrade(sockjs, request).await }
            }),
        )
}

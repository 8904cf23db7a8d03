//! The STOMP endpoint: WebSocket upgrade and one session task per connection.

use std::sync::Arc;

use application::ports::inbound::ChatService;
use futures::StreamExt as _;
use poem::web::websocket::{WebSocket, WebSocketConfig, WebSocketStream};
use poem::{Endpoint, FromRequest as _, IntoResponse as _, Request, Response};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::hub::{SubscriptionHub, metric};
use crate::session::Connection;
use crate::settings::StompSettings;

/// The STOMP sub-protocols we speak, best first.
const SUBPROTOCOLS: [&str; 3] = ["v12.stomp", "v11.stomp", "v10.stomp"];

/// Everything a session needs, shared by all of them.
pub struct StompServer<S: ChatService> {
    pub(crate) chat: S,
    pub(crate) hub: Arc<SubscriptionHub>,
    pub(crate) settings: StompSettings,
    pub(crate) shutdown: CancellationToken,
    sessions: TaskTracker,
}

impl<S: ChatService> StompServer<S> {
    /// A server whose sessions deliver from `hub` and end when `shutdown` is cancelled.
    pub fn new(
        chat: S,
        hub: Arc<SubscriptionHub>,
        settings: StompSettings,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            chat,
            hub,
            settings,
            shutdown,
            sessions: TaskTracker::new(),
        })
    }

    /// Waits until every session task has ended (after `shutdown` was cancelled).
    pub async fn drained(&self) {
        self.sessions.close();
        self.sessions.wait().await;
    }

    /// Sessions currently running.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    fn websocket_config(&self) -> WebSocketConfig {
        // tungstenite's defaults reserve ~128 KiB of buffers per connection; an idle
        // chat connection needs a few KiB. A write buffer of 0 flushes every frame.
        WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_write_buffer_size(self.settings.max_frame_bytes * 4)
            .max_message_size(Some(self.settings.max_frame_bytes))
            .max_frame_size(Some(self.settings.max_frame_bytes))
    }

    async fn serve(self: Arc<Self>, socket: WebSocketStream) {
        let _open = OpenConnection::count();
        let (sink, stream) = socket.split();
        Connection::new(self, sink).run(stream).await;
    }
}

/// Counts a session in `stomp_connections` for as long as its task lives,
/// including a task dropped mid-flight.
struct OpenConnection(metrics::Gauge);

impl OpenConnection {
    fn count() -> Self {
        let gauge = metrics::gauge!(metric::CONNECTIONS);
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The poem endpoint for `/my-chat/websocket`.
pub fn websocket_endpoint<S: ChatService>(
    server: Arc<StompServer<S>>,
) -> impl Endpoint<Output = Response> {
    poem::endpoint::make(move |request: Request| {
        let server = server.clone();
        async move {
            let websocket = WebSocket::from_request_without_body(&request).await?;
            let config = server.websocket_config();
            let span = tracing::info_span!("stomp.session", peer = %request.remote_addr());
            Ok::<_, poem::Error>(
                websocket
                    .protocols(SUBPROTOCOLS)
                    .config(config)
                    .on_upgrade(move |socket| {
                        let tracked = server.sessions.track_future(server.clone().serve(socket));
                        tracked.instrument(span)
                    })
                    .into_response(),
            )
        }
    })
}

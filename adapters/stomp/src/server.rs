//! The STOMP server: what every session shares, and the one way a session runs,
//! whichever transport carries it (raw WebSocket or SockJS).

use std::future::Future;
use std::sync::Arc;

use application::ports::inbound::ChatService;
use poem::web::websocket::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::hub::{SubscriptionHub, metric};
use crate::session::Connection;
use crate::settings::StompSettings;
use crate::transport::{HeartBeatOffer, InboundSource, OutboundSink};

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

    /// Runs `future` as a session task that shutdown waits for.
    pub(crate) fn track<F: Future>(
        &self,
        future: F,
    ) -> tokio_util::task::task_tracker::TrackedFuture<F> {
        self.sessions.track_future(future)
    }

    /// Spawns `future` as a session task that shutdown waits for.
    pub(crate) fn spawn_tracked<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.sessions.spawn(future));
    }

    /// The heart-beats a full-duplex transport offers: the configured ones.
    pub(crate) fn websocket_offer(&self) -> HeartBeatOffer {
        HeartBeatOffer {
            send_ms: self.settings.heartbeat_send_ms,
            receive_ms: self.settings.heartbeat_receive_ms,
        }
    }

    pub(crate) fn websocket_config(&self) -> WebSocketConfig {
        // tungstenite's defaults reserve ~128 KiB of buffers per connection; an idle
        // chat connection needs a few KiB. A write buffer of 0 flushes every frame.
        WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_write_buffer_size(self.settings.max_frame_bytes * 4)
            .max_message_size(Some(self.settings.max_frame_bytes))
            .max_frame_size(Some(self.settings.max_frame_bytes))
    }

    /// Serves one STOMP connection over `out` and `inbound` until it ends.
    pub(crate) async fn run_session(
        self: Arc<Self>,
        out: impl OutboundSink,
        inbound: impl InboundSource,
        offer: HeartBeatOffer,
    ) {
        let _open = OpenConnection::count();
        Connection::new(self, out, offer).run(inbound).await;
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

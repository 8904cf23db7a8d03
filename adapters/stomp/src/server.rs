//! The STOMP server: what every session shares, and the one way a session runs,
//! whichever transport carries it (raw WebSocket or SockJS).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use metric_names::stomp as metric;
use poem::web::websocket::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ChatPorts;
use crate::caps::{CapExceeded, CapLimits, ConnectionCaps, SocketPermit};
use crate::hub::SubscriptionHub;
use crate::session::Session;
use crate::settings::StompSettings;
use crate::transport::{HeartBeatOffer, InboundSource, OutboundSink};

/// How long a write or close may still take once the server is shutting down: a
/// frame to a client either goes at once or never.
const CLOSE_ON_SHUTDOWN: Duration = Duration::from_secs(1);

/// Everything a session needs, shared by all of them.
pub struct StompServer {
    pub(crate) chat: ChatPorts,
    pub(crate) hub: Arc<SubscriptionHub>,
    pub(crate) settings: StompSettings,
    pub(crate) shutdown: CancellationToken,
    pub(crate) caps: Arc<ConnectionCaps>,
    sessions: TaskTracker,
    /// SENDs running beside their sessions, which may outlive them.
    sends: TaskTracker,
}

impl StompServer {
    /// A server whose sessions deliver from `hub` and end when `shutdown` is cancelled.
    pub fn new(
        chat: ChatPorts,
        hub: Arc<SubscriptionHub>,
        settings: StompSettings,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        let caps = ConnectionCaps::new(CapLimits {
            total: settings.max_connections,
            per_address: settings.max_connections_per_address,
            unauthenticated: settings.max_unauthenticated,
            per_user: settings.max_connections_per_user,
        });
        Arc::new(Self {
            chat,
            hub,
            settings,
            shutdown,
            caps,
            sessions: TaskTracker::new(),
            sends: TaskTracker::new(),
        })
    }

    /// Waits until every session task, and every SEND one started, has ended (after
    /// `shutdown` was cancelled).
    pub async fn drained(&self) {
        self.sessions.close();
        self.sessions.wait().await;
        self.sends.close();
        self.sends.wait().await;
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

    /// Spawns a session's SEND as a task that shutdown waits for, and gives its handle.
    pub(crate) fn spawn_send<F>(&self, send: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.sends.spawn(send)
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

    /// A place for a new socket from `remote` under the caps (see [`Self::refuse`] for
    /// the answer when there is none).
    pub(crate) fn admit_socket(
        &self,
        remote: &poem::web::RemoteAddr,
    ) -> Result<SocketPermit, CapExceeded> {
        let address = remote.as_socket_addr().map(std::net::SocketAddr::ip);
        self.caps.admit_socket(address)
    }

    /// The HTTP answer to a socket refused over `cap` (counted and logged): 429 when
    /// its address (or user) has too many, 503 when the server does.
    pub(crate) fn refuse(&self, cap: CapExceeded) -> poem::Response {
        use poem::http::StatusCode;
        self.caps.record_refusal(cap);
        let status = match cap {
            CapExceeded::Address | CapExceeded::User => StatusCode::TOO_MANY_REQUESTS,
            CapExceeded::Total | CapExceeded::Unauthenticated | CapExceeded::SockJsSessions => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        // `Connection: close`: a refused client does not keep its socket (and the
        // server's descriptor) open for another request.
        poem::Response::builder()
            .status(status)
            .header(poem::http::header::CONNECTION, "close")
            .header(poem::http::header::RETRY_AFTER, "10")
            .content_type("text/plain;charset=UTF-8")
            .body(cap.message())
    }

    /// How long one write or close may take.
    pub(crate) fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.write_timeout_ms.max(1))
    }

    /// Runs one write or close to a client, or gives it up: `None` when it did not
    /// finish within the write timeout, or within [`CLOSE_ON_SHUTDOWN`] of the
    /// server starting to shut down (the grace period is shared by every session).
    pub(crate) async fn bounded<F: Future>(&self, io: F) -> Option<F::Output> {
        let shutting_down = async {
            self.shutdown.cancelled().await;
            tokio::time::sleep(CLOSE_ON_SHUTDOWN).await;
        };
        tokio::select! {
            done = tokio::time::timeout(self.write_timeout(), io) => done.ok(),
            () = shutting_down => None,
        }
    }

    /// Serves one STOMP connection over `out` and `inbound` until it ends.
    pub(crate) async fn run_session(
        self: Arc<Self>,
        out: impl OutboundSink,
        inbound: impl InboundSource,
        offer: HeartBeatOffer,
        permit: SocketPermit,
    ) {
        let _open = OpenConnection::count();
        Session::new(self, out, offer, permit).run(inbound).await;
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

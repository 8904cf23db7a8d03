//! A hostile client: it connects, then floods the server with requests the server
//! refuses (each refusal is written back on `/user/queue/errors`) and never reads
//! its socket, so the server's writes to it pile up until they cannot go on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use tokio::net::TcpSocket;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// How long a send may wait before the flooder counts the server as no longer taking its frames.
const STALLED: Duration = Duration::from_secs(1);

/// A flooding connection, running in its own task until the server drops it.
pub struct Flooder {
    stalled: Arc<AtomicBool>,
    stalled_signal: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Flooder {
    /// Connects as `user` to the STOMP WebSocket `url` with a tiny receive buffer,
    /// subscribes to its error queue and starts flooding.
    pub async fn start(url: &str, user: u64) -> Self {
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .expect("a ws:// URL");
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("small buffer");
        let stream = socket
            .connect(host.parse().expect("host:port"))
            .await
            .expect("TCP connect");
        let mut request = url.into_client_request().expect("valid URL");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "v12.stomp".parse().expect("header"),
        );
        let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .expect("WebSocket handshake");
        let token = crate::token(user, "flooder");
        let connect =
            format!("CONNECT\naccept-version:1.2\nheart-beat:0,0\naccess-token:{token}\n\n\0");
        ws.send(Message::text(connect)).await.expect("CONNECT");
        let reply = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a reply to CONNECT")
            .expect("the socket is open")
            .expect("a frame");
        assert!(
            reply.to_text().is_ok_and(|t| t.starts_with("CONNECTED")),
            "{reply:?}"
        );
        ws.send(Message::text(
            "SUBSCRIBE\nid:errors\ndestination:/user/queue/errors\n\n\0".to_owned(),
        ))
        .await
        .expect("SUBSCRIBE");

        let stalled = Arc::new(AtomicBool::new(false));
        let stalled_signal = Arc::new(Notify::new());
        let (flag, signal) = (stalled.clone(), stalled_signal.clone());
        // Each refusal echoes the destination, cut to 128 characters: a destination of about
        // that length makes every refusal larger than the SEND that caused it, so the
        // server's socket buffers fill after little sending, even on a loaded machine.
        let refused = format!("SEND\ndestination:/nowhere/{}\n\n{{}}\0", "x".repeat(110));
        let task = tokio::spawn(async move {
            loop {
                let frame = ws.send(Message::text(refused.clone()));
                tokio::pin!(frame);
                let outcome = if let Ok(done) = tokio::time::timeout(STALLED, &mut frame).await {
                    done
                } else {
                    flag.store(true, Ordering::Release);
                    signal.notify_waiters();
                    frame.await
                };
                if outcome.is_err() {
                    return;
                }
            }
        });
        Self {
            stalled,
            stalled_signal,
            task,
        }
    }

    /// Waits (up to 30 s) until the server no longer takes the flooder's frames:
    /// it is stuck writing refusals that are never read.
    pub async fn wait_until_stalled(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            // Created before the check, so a signal between the two is not missed.
            let notified = self.stalled_signal.notified();
            if self.stalled.load(Ordering::Acquire) {
                return;
            }
            assert!(
                tokio::time::timeout_at(deadline, notified).await.is_ok(),
                "the flooder's frames were still being taken after 30 s"
            );
        }
    }

    /// Whether the server dropped the connection within `patience`.
    pub async fn dropped_within(&mut self, patience: Duration) -> bool {
        tokio::time::timeout(patience, &mut self.task).await.is_ok()
    }
}

impl Drop for Flooder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

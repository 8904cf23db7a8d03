//! A STOMP connection split in two halves, so one task can write as fast as the server takes
//! frames while another reads: what a flooding publisher or a reader with its own pace needs
//! (the [`crate::StompClient`] does one thing at a time).

use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Frame;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The writing half.
pub struct StompWriter(SplitSink<Socket, Message>);

/// The reading half.
pub struct StompReader(SplitStream<Socket>);

/// Connects as `user` (CONNECT without heart-beats, CONNECTED expected), with the socket's
/// receive buffer set to `receive_buffer` bytes when given: a small one makes the server's
/// writes wait for this client's reads instead of piling up in the kernel.
pub async fn connect_split(
    url: &str,
    user: u64,
    receive_buffer: Option<u32>,
) -> (StompWriter, StompReader) {
    let host = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .expect("a ws:// URL");
    let socket = TcpSocket::new_v4().expect("socket");
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes).expect("receive buffer");
    }
    let stream = socket
        .connect(host.parse().expect("host:port"))
        .await
        .expect("TCP connect");
    let mut request = url.into_client_request().expect("valid URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v12.stomp".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .expect("WebSocket handshake");
    let token = crate::token(user, &format!("user{user}"));
    let connect =
        format!("CONNECT\naccept-version:1.2\nheart-beat:0,0\naccess-token:{token}\n\n\0");
    ws.send(Message::text(connect)).await.expect("CONNECT");
    let (writer, reader) = ws.split();
    let mut reader = StompReader(reader);
    let connected = reader.next().await.expect("a reply to CONNECT");
    assert_eq!(connected.command, "CONNECTED", "{connected:?}");
    (StompWriter(writer), reader)
}

impl StompWriter {
    /// Writes a frame; `false` once the connection is gone.
    pub async fn send(&mut self, command: &str, headers: &[(&str, &str)], body: &str) -> bool {
        let text = crate::client::frame_text(command, headers, body);
        self.0.send(Message::text(text)).await.is_ok()
    }
}

impl StompReader {
    /// The next frame, or `None` once the socket closed.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            match self.0.next().await? {
                Ok(Message::Text(text)) => {
                    let text = text.as_str();
                    // A bare EOL is a heart-beat.
                    if text.trim_matches(['\n', '\r']).is_empty() {
                        continue;
                    }
                    return Some(Frame::parse(text));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next frame within `wait`: `Err(())` when none came in time.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Option<Frame>, ()> {
        tokio::time::timeout(wait, self.next())
            .await
            .map_err(|_| ())
    }
}

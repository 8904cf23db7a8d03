//! A deliberately small STOMP 1.2 client over a real WebSocket (tokio-tungstenite).

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any expected frame may take.
const PATIENCE: Duration = Duration::from_secs(5);

/// A frame as received: command, headers in order, body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub command: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Frame {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim_start_matches(['\r', '\n']);
        let (head, rest) = text.split_once("\n\n").expect("frame has a blank line");
        let mut lines = head.lines();
        let command = lines.next().expect("frame has a command").to_owned();
        let headers = lines
            .map(|line| {
                let (n, v) = line.split_once(':').expect("header has a colon");
                (n.to_owned(), v.to_owned())
            })
            .collect();
        let body = rest.split('\0').next().unwrap_or_default().to_owned();
        Self {
            command,
            headers,
            body,
        }
    }
}

/// Why a frame did not come (see [`StompClient::try_next_frame`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameLost {
    /// Nothing within the time given.
    Timeout,
    /// The server closed the WebSocket (its close code, if it gave one) or the TCP stream.
    Closed(Option<u16>),
    /// The socket failed.
    Failed(String),
}

/// A frame as text, escaping nothing: tests use plain header values.
pub fn frame_text(command: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!("{command}\n");
    for (name, value) in headers {
        text.push_str(name);
        text.push(':');
        text.push_str(value);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(body);
    text.push('\0');
    text
}

/// One client connection.
pub struct StompClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    receipts: u64,
    /// MESSAGE frames read while waiting for a receipt, in arrival order.
    held: Vec<Frame>,
}

impl StompClient {
    /// Opens the WebSocket (offering the STOMP sub-protocols) without sending CONNECT.
    pub async fn open(url: &str) -> Self {
        Self::try_open(url)
            .await
            .unwrap_or_else(|status| panic!("WebSocket handshake refused with HTTP {status}"))
    }

    /// Opens the WebSocket, or returns the HTTP status that refused the handshake.
    pub async fn try_open(url: &str) -> Result<Self, u16> {
        let mut request = url.into_client_request().expect("valid URL");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "v10.stomp, v11.stomp, v12.stomp".parse().expect("header"),
        );
        let (ws, response) = match tokio_tungstenite::connect_async(request).await {
            Ok(opened) => opened,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                return Err(response.status().as_u16());
            }
            Err(error) => panic!("WebSocket handshake failed: {error}"),
        };
        let protocol = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            ["v10.stomp", "v11.stomp", "v12.stomp"].contains(&protocol),
            "the server agrees on a STOMP sub-protocol, got `{protocol}`"
        );
        Ok(Self {
            ws,
            receipts: 0,
            held: Vec::new(),
        })
    }

    /// Opens the WebSocket over an already connected `stream` (for a client socket bound to
    /// a chosen source address), offering the STOMP sub-protocols; the handshake's error.
    /// Its buffers are small (tungstenite's defaults are 128 KiB each), so that a load tool
    /// can hold a hundred thousand of them.
    pub async fn try_open_over(url: &str, stream: TcpStream) -> Result<Self, String> {
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "v10.stomp, v11.stomp, v12.stomp".parse().expect("header"),
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let (ws, _response) = tokio_tungstenite::client_async_with_config(
            request,
            MaybeTlsStream::Plain(stream),
            Some(config),
        )
        .await
        .map_err(|error| error.to_string())?;
        Ok(Self {
            ws,
            receipts: 0,
            held: Vec::new(),
        })
    }

    /// Opens and sends the seed's CONNECT (`access-token`, `user-id`), returning the reply frame.
    pub async fn try_connect(url: &str, token: &str, user_id: &str) -> (Self, Frame) {
        let mut client = Self::open(url).await;
        client
            .send(
                "CONNECT",
                &[
                    ("accept-version", "1.1,1.2"),
                    ("heart-beat", "0,0"),
                    ("access-token", token),
                    ("user-id", user_id),
                ],
                "",
            )
            .await;
        let reply = client.next_frame().await;
        (client, reply)
    }

    /// Connects as `user` and expects CONNECTED.
    pub async fn connect(url: &str, user: u64, name: &str) -> Self {
        let (client, reply) =
            Self::try_connect(url, &crate::token(user, name), &user.to_string()).await;
        assert_eq!(reply.command, "CONNECTED", "{reply:?}");
        client
    }

    /// Sends a frame (escaping nothing: tests use plain header values).
    pub async fn send(&mut self, command: &str, headers: &[(&str, &str)], body: &str) {
        self.send_raw(&frame_text(command, headers, body)).await;
    }

    /// Sends raw text as one WebSocket message.
    pub async fn send_raw(&mut self, text: &str) {
        self.try_send_raw(text).await.expect("WebSocket send");
    }

    /// Sends raw text as one WebSocket message; the error instead of a panic.
    pub async fn try_send_raw(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .map_err(|error| error.to_string())
    }

    /// The next frame within `within` (heart-beats skipped), or why none came: for load
    /// tools, which count failures instead of panicking on them.
    pub async fn try_next_frame(&mut self, within: Duration) -> Result<Frame, FrameLost> {
        if !self.held.is_empty() {
            return Ok(self.held.remove(0));
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_elapsed| FrameLost::Timeout)?;
            let text = match next {
                Some(Ok(Message::Text(text))) => text.to_string(),
                Some(Ok(Message::Binary(data))) => String::from_utf8_lossy(&data).into_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => {
                    return Err(FrameLost::Closed(frame.map(|f| f.code.into())));
                }
                None => return Err(FrameLost::Closed(None)),
                Some(Err(error)) => return Err(FrameLost::Failed(error.to_string())),
            };
            if !text.trim_matches(['\r', '\n']).is_empty() {
                return Ok(Frame::parse(&text));
            }
        }
    }

    fn next_receipt(&mut self) -> String {
        self.receipts += 1;
        format!("r-{}", self.receipts)
    }

    /// Subscribes and waits until the server confirms it.
    pub async fn subscribe(&mut self, id: &str, destination: &str) {
        let receipt = self.subscribe_with_receipt(id, destination).await;
        self.expect_receipt(&receipt).await;
    }

    /// Subscribes and waits for the outcome: `Ok` on the RECEIPT, `Err` with the
    /// refusal the server put on `/user/queue/errors` (subscribe to it first).
    pub async fn try_subscribe(&mut self, id: &str, destination: &str) -> Result<(), Value> {
        let receipt = self.subscribe_with_receipt(id, destination).await;
        self.outcome(&receipt).await.map(|_receipt| ())
    }

    /// Sends a SUBSCRIBE asking for a receipt; the receipt id.
    async fn subscribe_with_receipt(&mut self, id: &str, destination: &str) -> String {
        let receipt = self.next_receipt();
        self.send(
            "SUBSCRIBE",
            &[
                ("id", id),
                ("destination", destination),
                ("receipt", &receipt),
            ],
            "",
        )
        .await;
        receipt
    }

    /// Subscribes with `x-since-seq: since` and waits until the server confirms it; the
    /// replayed events (they come before the RECEIPT) are kept for the `…event_on` reads.
    pub async fn subscribe_since(&mut self, id: &str, destination: &str, since: u64) {
        let receipt = self.next_receipt();
        let since = since.to_string();
        self.send(
            "SUBSCRIBE",
            &[
                ("id", id),
                ("destination", destination),
                ("x-since-seq", &since),
                ("receipt", &receipt),
            ],
            "",
        )
        .await;
        self.expect_receipt(&receipt).await;
    }

    /// Unsubscribes and waits until the server confirms it.
    pub async fn unsubscribe(&mut self, id: &str) {
        let receipt = self.next_receipt();
        self.send("UNSUBSCRIBE", &[("id", id), ("receipt", &receipt)], "")
            .await;
        self.expect_receipt(&receipt).await;
    }

    /// Sends JSON to a destination with a receipt, and waits for the receipt: the
    /// server answers it once the effect is stored and published.
    pub async fn send_json(&mut self, destination: &str, body: &Value) {
        self.send_json_for_receipt(destination, body).await;
    }

    /// As [`Self::send_json`], returning the RECEIPT (its `message-id` and `seq` headers).
    pub async fn send_json_for_receipt(&mut self, destination: &str, body: &Value) -> Frame {
        let receipt = self.send_json_with_receipt(destination, &[], body).await;
        self.expect_receipt(&receipt).await
    }

    /// Sends JSON with a receipt and waits for the outcome: `Ok` on the RECEIPT, `Err`
    /// with the refusal the server put on `/user/queue/errors` (subscribe to it first).
    /// Other MESSAGE frames that arrive meanwhile are kept for [`Self::next_message`].
    pub async fn try_send_json(&mut self, destination: &str, body: &Value) -> Result<(), Value> {
        self.try_send_json_with(destination, &[], body)
            .await
            .map(|_receipt| ())
    }

    /// As [`Self::try_send_json`], with extra SEND headers (`client-msg-id`), answering
    /// the RECEIPT itself.
    pub async fn try_send_json_with(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Result<Frame, Value> {
        let receipt = self
            .send_json_with_receipt(destination, headers, body)
            .await;
        self.outcome(&receipt).await
    }

    /// Sends JSON to a destination asking for a receipt, with extra `headers`; the
    /// receipt id.
    async fn send_json_with_receipt(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> String {
        let receipt = self.next_receipt();
        let mut all = vec![("destination", destination), ("receipt", receipt.as_str())];
        all.extend_from_slice(headers);
        self.send("SEND", &all, &body.to_string()).await;
        receipt
    }

    /// The RECEIPT of `receipt` (`Ok`), or the refusal naming it on the error queue.
    async fn outcome(&mut self, receipt: &str) -> Result<Frame, Value> {
        loop {
            let frame = self
                .read_frame(PATIENCE * 4)
                .await
                .unwrap_or_else(|| panic!("no outcome of {receipt} within {:?}", PATIENCE * 4));
            if frame.command == "RECEIPT" && frame.header("receipt-id") == Some(receipt) {
                return Ok(frame);
            }
            if frame.command == "MESSAGE"
                && frame.header("destination") == Some("/user/queue/errors")
                && frame.json()["receipt-id"] == receipt
            {
                return Err(frame.json());
            }
            assert_eq!(frame.command, "MESSAGE", "unexpected {frame:?}");
            self.held.push(frame);
        }
    }

    /// The next message on `destination` within `patience`, keeping others for later;
    /// `None` when none came.
    pub async fn wait_for_event_on(
        &mut self,
        destination: &str,
        patience: Duration,
    ) -> Option<Value> {
        if let Some(at) = self
            .held
            .iter()
            .position(|f| f.header("destination") == Some(destination))
        {
            return Some(self.held.remove(at).json());
        }
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.read_frame(left).await?;
            if frame.command == "MESSAGE" && frame.header("destination") == Some(destination) {
                return Some(frame.json());
            }
            self.held.push(frame);
        }
    }

    /// Sends JSON without asking for a receipt.
    pub async fn send_json_unconfirmed(&mut self, destination: &str, body: &Value) {
        self.send("SEND", &[("destination", destination)], &body.to_string())
            .await;
    }

    /// Waits for the RECEIPT of `id`, failing on anything else that is not a MESSAGE.
    /// MESSAGE frames that arrive first are kept for [`Self::next_message`].
    async fn expect_receipt(&mut self, id: &str) -> Frame {
        let frame = self.next_non_message().await;
        assert_eq!(
            frame.command, "RECEIPT",
            "expected RECEIPT {id}, got {frame:?}"
        );
        assert_eq!(frame.header("receipt-id"), Some(id));
        frame
    }

    /// The next frame of any kind, skipping heart-beats.
    pub async fn next_frame(&mut self) -> Frame {
        if !self.held.is_empty() {
            return self.held.remove(0);
        }
        self.read_frame(PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no frame within {PATIENCE:?}"))
    }

    async fn next_non_message(&mut self) -> Frame {
        loop {
            let frame = self
                .read_frame(PATIENCE)
                .await
                .unwrap_or_else(|| panic!("no frame within {PATIENCE:?}"));
            if frame.command == "MESSAGE" {
                self.held.push(frame);
            } else {
                return frame;
            }
        }
    }

    /// The next MESSAGE frame: `(destination, JSON body)`.
    pub async fn next_message(&mut self) -> (String, Value) {
        let frame = self.next_frame().await;
        assert_eq!(frame.command, "MESSAGE", "{frame:?}");
        (
            frame.header("destination").unwrap_or_default().to_owned(),
            frame.json(),
        )
    }

    /// The next message, which must arrive on `destination`.
    pub async fn next_event_on(&mut self, destination: &str) -> Value {
        let (on, event) = self.next_message().await;
        assert_eq!(on, destination, "event {event} arrived elsewhere");
        event
    }

    /// Asserts nothing but heart-beats arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        assert!(self.held.is_empty(), "unexpected frames: {:?}", self.held);
        if let Some(frame) = self.read_frame(quiet).await {
            panic!("expected silence, got {frame:?}");
        }
    }

    /// Asserts the server closes the connection (close frame or end of stream).
    pub async fn expect_closed(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("the server closes the socket in time");
            match next {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                None | Some(Err(_)) => return None,
                Some(Ok(Message::Text(text))) if text.trim_matches(['\r', '\n']).is_empty() => {}
                Some(Ok(other)) => panic!("expected the socket to close, got {other:?}"),
            }
        }
    }

    /// Asserts the server answers with ERROR and/or closes the socket; true when it did.
    pub async fn expect_closed_or_error(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return false,
                Ok(Some(Ok(Message::Text(text)))) if text.starts_with("ERROR") => return true,
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Drops the TCP connection without DISCONNECT or close frame.
    pub fn drop_connection(self) {
        drop(self);
    }

    /// Sends DISCONNECT with a receipt and waits for it.
    pub async fn disconnect(mut self) {
        let receipt = self.next_receipt();
        self.send("DISCONNECT", &[("receipt", &receipt)], "").await;
        self.expect_receipt(&receipt).await;
        self.expect_closed().await;
    }

    /// Reads one frame, or the first heart-beat if `heart_beats` asks for it.
    pub async fn read_heart_beat(&mut self, within: Duration) -> bool {
        match tokio::time::timeout(within, self.ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text.trim_matches(['\r', '\n']).is_empty(),
            _ => false,
        }
    }

    async fn read_frame(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            let text = match next {
                Some(Ok(Message::Text(text))) => text.to_string(),
                Some(Ok(Message::Binary(data))) => String::from_utf8_lossy(&data).into_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => panic!("socket closed by the server: {frame:?}"),
                None | Some(Err(_)) => panic!("socket lost"),
            };
            if text.trim_matches(['\r', '\n']).is_empty() {
                continue;
            }
            return Some(Frame::parse(&text));
        }
    }
}

//! What a STOMP session reads from and writes to, whatever carries it.
//!
//! The session task (`session`) speaks STOMP over text messages; it does not know
//! whether they travel on a raw WebSocket (`websocket`) or inside SockJS (`sockjs`):
//! each carrier adapts itself to this pair of traits.

use std::future::Future;

/// Something the client side of a transport produced.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// Bytes of STOMP frames (any split: a frame may span several messages).
    Data(Vec<u8>),
    /// Proof of life without data (a WebSocket ping or pong).
    Alive,
    /// The client is gone, or the transport gave up on it.
    Closed,
}

/// The receiving half. `next` must be cancel-safe: the session polls it in a `select!`.
pub(crate) trait InboundSource: Send {
    fn next(&mut self) -> impl Future<Output = Inbound> + Send;
}

/// The transport can no longer deliver anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransportClosed;

/// Why the server ends a connection, as a WebSocket close code and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Close {
    pub(crate) code: u16,
    pub(crate) reason: String,
}

impl Close {
    /// The client said goodbye (DISCONNECT).
    pub(crate) const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub(crate) const GOING_AWAY: u16 = 1001;
    /// The client broke the STOMP protocol version rules.
    pub(crate) const PROTOCOL_ERROR: u16 = 1002;
    /// Any other fatal error (the ERROR frame says which).
    pub(crate) const POLICY_VIOLATION: u16 = 1008;

    pub(crate) fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// The sending half.
pub(crate) trait OutboundSink: Send {
    /// Sends one STOMP frame (or a heart-beat). Waits while the transport is full.
    fn send(&mut self, frame: Vec<u8>) -> impl Future<Output = Result<(), TransportClosed>> + Send;

    /// Ends the connection; what was sent before still reaches the client.
    fn close(&mut self, close: Close) -> impl Future<Output = ()> + Send;
}

/// The STOMP heart-beats a transport can honestly offer (`heart-beat: cx,cy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeartBeatOffer {
    /// How often the server can send (ms; 0 = never).
    pub(crate) send_ms: u64,
    /// How often the server wants the client's heart-beats (ms; 0 = not needed).
    pub(crate) receive_ms: u64,
}

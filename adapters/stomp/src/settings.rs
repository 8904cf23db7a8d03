//! The `[stomp]` settings table (and its `[stomp.sockjs]` part).

use serde::Deserialize;

use crate::sockjs::SockJsSettings;

/// Limits and timings of the STOMP endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StompSettings {
    /// How often the server offers to send heart-beats (ms; 0 = never).
    pub heartbeat_send_ms: u64,
    /// How often the server wants the client's heart-beats (ms; 0 = not needed).
    pub heartbeat_receive_ms: u64,
    /// How long a new socket may take to send CONNECT (ms).
    pub connect_timeout_ms: u64,
    /// Frames waiting for a slow client before it is disconnected.
    pub outbound_queue: usize,
    /// Largest frame accepted (bytes); also the WebSocket message limit.
    pub max_frame_bytes: usize,
    /// Subscriptions one connection may hold.
    pub max_subscriptions: usize,
    /// The SockJS endpoint (`[stomp.sockjs]`).
    pub sockjs: SockJsSettings,
}

impl Default for StompSettings {
    fn default() -> Self {
        Self {
            heartbeat_send_ms: 10_000,
            heartbeat_receive_ms: 10_000,
            connect_timeout_ms: 10_000,
            outbound_queue: 256,
            max_frame_bytes: 64 * 1024,
            max_subscriptions: 256,
            sockjs: SockJsSettings::default(),
        }
    }
}

//! The `[stomp]` settings table (and its `[stomp.sockjs]` part).

use serde::Deserialize;

use std::time::Duration;

use crate::outbound_queue::OutboundLimits;
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
    /// Frames one connection's outbound queue holds; past half of it (or of
    /// `outbound_queue_bytes`) the connection is behind, and SENDs to a room whose
    /// subscribers are mostly behind wait (`overload_wait_ms`).
    pub outbound_queue: usize,
    /// Bytes one connection's outbound queue holds.
    pub outbound_queue_bytes: usize,
    /// Bytes every connection's outbound queue holds together; past half of it every SEND
    /// waits, and a delivery beyond it is dropped (announced by a `gap` event).
    pub outbound_budget_bytes: usize,
    /// A connection whose queue keeps overflowing this long without draining to a quarter
    /// is a slow consumer: closed with ERROR, its client reconnects and catches up (ms).
    pub slow_consumer_ms: u64,
    /// The longest a SEND waits for its room's delivery to catch up before it is refused
    /// as `overloaded` (ms).
    pub overload_wait_ms: u64,
    /// SENDs of one connection running at once; with that many running, the
    /// connection's socket is not read until one is answered.
    pub max_sends_in_flight: usize,
    /// Largest frame accepted (bytes); also the WebSocket message limit.
    pub max_frame_bytes: usize,
    /// Subscriptions one connection may hold.
    pub max_subscriptions: usize,
    /// How long one write (or close) to a client may take before the client is
    /// considered stuck and its session is ended (ms).
    pub write_timeout_ms: u64,
    /// How often every subscription's authorisation is checked again, so a removed
    /// member or a cache refresh ends subscriptions on every instance (ms; 0 = never).
    pub reauthorize_interval_ms: u64,
    /// Sockets (WebSocket connections and SockJS sessions) on this instance, whatever
    /// their address (0 = no limit). The server derives it from its file-descriptor
    /// limit when it is not configured.
    pub max_connections: usize,
    /// STOMP sessions one user may have open on this instance (0 = no limit).
    pub max_connections_per_user: usize,
    /// Sockets (WebSocket connections and SockJS sessions) one remote address may
    /// have open on this instance (0 = no limit).
    pub max_connections_per_address: usize,
    /// Sockets on this instance that have not completed CONNECT yet (0 = no limit).
    pub max_unauthenticated: usize,
    /// Refusals a session may provoke at once before it is closed (0 = no limit).
    pub refusal_burst: u32,
    /// Refusals per second a session may provoke, sustained.
    pub refusals_per_second: f64,
    /// Most room events replayed to a SUBSCRIBE with `x-since-seq`; a client that
    /// missed more gets one `gap` event and reloads over REST.
    pub resume_limit: usize,
    /// The SockJS endpoint (`[stomp.sockjs]`).
    pub sockjs: SockJsSettings,
}

impl Default for StompSettings {
    fn default() -> Self {
        Self {
            heartbeat_send_ms: 10_000,
            heartbeat_receive_ms: 10_000,
            connect_timeout_ms: 10_000,
            outbound_queue: 1024,
            outbound_queue_bytes: 1024 * 1024,
            outbound_budget_bytes: 256 * 1024 * 1024,
            slow_consumer_ms: 10_000,
            overload_wait_ms: 2_000,
            max_sends_in_flight: 32,
            max_frame_bytes: 64 * 1024,
            max_subscriptions: 256,
            write_timeout_ms: 10_000,
            reauthorize_interval_ms: 30_000,
            max_connections: 0,
            max_connections_per_user: 20,
            max_connections_per_address: 200,
            max_unauthenticated: 1_000,
            refusal_burst: 50,
            refusals_per_second: 1.0,
            resume_limit: 500,
            sockjs: SockJsSettings::default(),
        }
    }
}

impl StompSettings {
    /// The bounds of the connections' outbound queues.
    pub fn outbound_limits(&self) -> OutboundLimits {
        OutboundLimits {
            frames: self.outbound_queue.max(1),
            bytes: self.outbound_queue_bytes.max(1),
            budget_bytes: self.outbound_budget_bytes.max(1),
            slow_consumer: Duration::from_millis(self.slow_consumer_ms),
        }
    }

    /// The longest a SEND waits for its room's delivery to catch up.
    pub fn overload_wait(&self) -> Duration {
        Duration::from_millis(self.overload_wait_ms)
    }
}

//! The `[stomp.sockjs]` settings table: SockJS's own timings.

use serde::Deserialize;

/// Timings and limits of the SockJS endpoint (defaults: SockJS's and Spring's).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SockJsSettings {
    /// How often an idle receiving connection gets an `h` frame (ms).
    pub heartbeat_ms: u64,
    /// How long an HTTP session may have no receiving request before it is closed (ms);
    /// also how long a closed session keeps answering with its close frame.
    pub disconnect_delay_ms: u64,
    /// Bytes one streaming response carries before it ends and the client reopens it,
    /// so browsers can free what they buffered.
    pub stream_limit_bytes: usize,
    /// HTTP sessions (`xhr`, `xhr_streaming`, `eventsource`) open at once on this
    /// instance; their ids are chosen by clients (0 = no limit).
    pub max_sessions: usize,
}

impl Default for SockJsSettings {
    fn default() -> Self {
        Self {
            heartbeat_ms: 25_000,
            disconnect_delay_ms: 5_000,
            stream_limit_bytes: 128 * 1024,
            max_sessions: 10_000,
        }
    }
}

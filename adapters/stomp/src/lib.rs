//! Inbound STOMP over WebSocket and SockJS, compatible with the seed's web and iOS clients.
//!
//! - [`frame`]: a pure STOMP 1.0-1.2 codec;
//! - `session`: one task per connection, turning frames into calls to the driving
//!   ports of [`ChatPorts`];
//! - `transport`: what a session reads and writes, so that one session type runs
//!   over both carriers: `websocket` (raw STOMP over WebSocket) and [`sockjs`];
//! - [`SubscriptionHub`]: local subscribers, and the `RoomBroadcaster` port that
//!   delivers bus events to them;
//! - `payload` / `event_json`: the seed's JSON shapes, owned here and nowhere else;
//!   `gap_notice`: the one event we add, for a resume that missed too much.

mod caps;
mod chat_ports;
mod delivery_backlog;
mod destination;
mod event_json;
pub mod frame;
mod gap_notice;
mod heartbeat;
mod hub;
mod lobby_payload;
mod log_throttle;
mod missed_runs;
mod outbound_queue;
mod payload;
mod refusal;
mod refusal_budget;
mod server;
mod session;
mod settings;
pub mod sockjs;
mod transport;
mod websocket;

pub use chat_ports::ChatPorts;
pub use hub::SubscriptionHub;
pub use outbound_queue::OutboundLimits;
pub use server::StompServer;
pub use settings::StompSettings;
pub use sockjs::{SockJsSettings, sockjs_endpoint};
pub use websocket::websocket_endpoint;

//! The state (presence) server over TCP: the
//! [`SessionStateGateway`](application::ports::outbound::SessionStateGateway) port spoken in the
//! seed's protocol (`docs/original-system.md` §7), so this server can replace the seed's chat
//! server in front of the existing presence service.
//!
//! # Layout
//!
//! * `settings`: the `[state_server]` table and the [`WireFormat`] choice.
//! * `request`: typed requests rendered as one line, seed `toString()` style or JSON. Only typed
//!   domain values go in, so nothing can be injected.
//! * `reply`: strict parsing of the reply lines (`1,com3,c-12`, `null,r-5`, occupancy JSON).
//! * `connection`: one TCP connection, CRLF framing, one request/reply at a time.
//! * `pool`: a bounded, lazily filled, self-healing set of connections, with timeouts.
//! * `gateway`: [`TcpStateServer`], which ties them together behind the port.

mod connection;
mod gateway;
mod pool;
mod reply;
mod request;
mod settings;

pub use gateway::TcpStateServer;
pub use settings::{StateTcpSettings, WireFormat};

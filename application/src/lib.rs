//! Use cases of the chat server and the ports (traits) they drive.
//!
//! Inbound adapters (STOMP, REST, file downloads) call the driving ports of
//! [`ports::inbound`], one small trait per purpose, which [`Chat`] implements; use
//! cases reach storage, the event bus, presence and the outside world only through the
//! outbound ports, which adapters implement. Nothing here knows a wire format, a
//! database or a network library.

#[warn(missing_docs)]
pub mod ports;
pub mod service;
pub mod usecases;

pub use service::{Adapters, Chat};

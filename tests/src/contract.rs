//! Contract suites of the outbound ports: one suite per port, run against the
//! in-memory adapter and against the real one (`tests/tests/contract/`), so both
//! behave the same way.

pub mod event_bus;
pub mod file_store;
pub mod message_store;
pub mod presence_store;
pub mod read_markers;

//! The port contract suites against each adapter: memory and the real services.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod event_bus;
mod file_store;
mod message_store;
mod presence_store;
mod read_markers;
mod seed_numbering;

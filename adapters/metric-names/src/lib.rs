//! The metric catalogue: every metric name the server exports, its label keys, and its
//! description, each written once. The adapters record through the constants and helpers
//! here and bootstrap describes them all with [`describe_all`], so a name cannot drift
//! between the crate that records it, the one that describes it and the dashboards.
//!
//! Label values stay bounded: each module says where its values come from.
//!
//! # Layout
//!
//! * `http`: requests served, by method, route template and status (bootstrap's middleware).
//! * `dependency`: the [`Dependency`] names, degraded answers and readiness per dependency.
//! * `errors`: errors and refusals sent to clients, by stable code (REST, files, STOMP).
//! * `uploads`: uploads in progress (REST).
//! * `stomp`: sessions, subscriptions, frames and caps of the STOMP adapter.
//! * `bus`: events published and received through Kafka, by topic.
//! * `delivery`: the room order of event delivery (skipped, late, filled, held).
//! * `memory_store`: what the embedded message store holds, and what it dropped.
//! * `tasks`: supervised background tasks that stopped (bootstrap's supervisor).
//! * `describe`: [`describe_all`].

pub mod bus;
pub mod delivery;
pub mod dependency;
mod describe;
pub mod errors;
pub mod http;
pub mod memory_store;
pub mod stomp;
pub mod tasks;
pub mod uploads;

pub use dependency::{Dependency, dependency_degraded, dependency_up};
pub use describe::describe_all;
pub use errors::error_code;
pub use tasks::task_stopped;
pub use uploads::uploads_in_progress;

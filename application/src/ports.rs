//! Driving (inbound) and driven (outbound) ports.

pub mod inbound;
pub mod outbound;

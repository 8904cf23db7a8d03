//! Helpers for the end-to-end tests: start the real `chat-server` binary on port 0
//! and talk to it with a small, independent STOMP-over-WebSocket client (it does
//! not reuse the server's codec, so a codec bug cannot hide itself).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

mod client;
mod cluster;
pub mod contract;
mod fake_auth_service;
mod fake_community_service;
mod fake_runtime;
mod fake_state_server;
mod flooder;
mod http;
pub mod load;
mod private_services;
mod refused_start;
mod server;
pub mod services;
mod split_client;
mod tokens;

pub use client::{Frame, FrameLost, StompClient, frame_text};
pub use cluster::{ClusterServices, TEST_LEASE_SECONDS, TestCluster};
pub use fake_auth_service::{FakeAuthService, FakeProfile, RecordedRequest};
pub use fake_community_service::{CommunityData, FakeCommunityService};
pub use fake_state_server::FakeStateServer;
pub use flooder::Flooder;
pub use http::{DEVELOPMENT_SERVICE_TOKEN, RestClient, TEST_SERVICE_TOKEN};
pub use private_services::{PrivateKafka, PrivateRedis};
pub use refused_start::refused_start;
pub use server::TestServer;
pub use split_client::{StompReader, StompWriter, connect_split};
pub use tokens::{
    DEVELOPMENT_SECRET, TEST_JWT_SECRET, expired_token, token, token_for, token_signed_with,
};

/// A room, channel or community id no other test uses.
pub fn unique_id() -> u64 {
    rand::random_range(1_000_000..u64::from(u32::MAX))
}

//! The services the server depends on, as metrics (and `/readyz`) name them: how often one
//! was answered for in degraded mode, and whether the last readiness probe reached it.

use metrics::{Counter, Gauge};

/// Counter by [`DEPENDENCY`]: answers a lobby dependency gave from a cache or fallback, or
/// failed to give (the use cases carried on without it). Recorded by the adapters of the
/// state server, the community service and the auth service.
pub const DEGRADED: &str = "chat_dependency_degraded_total";
/// Gauge by [`DEPENDENCY`]: 1 when the last `/readyz` probe reached a configured
/// dependency, 0 when it did not.
pub const UP: &str = "chat_dependency_up";

/// Label key: the [`Dependency`].
pub const DEPENDENCY: &str = "dependency";

/// A service the server depends on; its [`name`](Dependency::name) is the label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dependency {
    /// The external state (presence) server.
    StateServer,
    /// The community service (members, channels).
    CommunityService,
    /// The auth service (display names and images).
    AuthService,
    /// The event bus (Kafka).
    EventBus,
    /// The message store (MongoDB).
    MessageStore,
    /// How far users have read (MongoDB).
    ReadMarkers,
    /// Sessions and presence (Redis).
    Presence,
    /// The per-user allowances shared by every instance (Redis).
    RateLimiter,
    /// Shared files (S3 or a directory).
    FileStore,
}

impl Dependency {
    /// The label value, also the key `/readyz` reports the dependency under.
    pub const fn name(self) -> &'static str {
        match self {
            Self::StateServer => "state_server",
            Self::CommunityService => "community_service",
            Self::AuthService => "auth_service",
            Self::EventBus => "event_bus",
            Self::MessageStore => "message_store",
            Self::ReadMarkers => "read_markers",
            Self::Presence => "presence",
            Self::RateLimiter => "rate_limiter",
            Self::FileStore => "file_store",
        }
    }
}

/// The [`DEGRADED`] counter of `dependency`.
pub fn dependency_degraded(dependency: Dependency) -> Counter {
    metrics::counter!(DEGRADED, DEPENDENCY => dependency.name())
}

/// The [`UP`] gauge of `dependency`.
pub fn dependency_up(dependency: Dependency) -> Gauge {
    metrics::gauge!(UP, DEPENDENCY => dependency.name())
}

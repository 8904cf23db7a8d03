//! The process's file-descriptor limit and the client connections it leaves room for.
//!
//! At start the soft `RLIMIT_NOFILE` is raised to the hard limit (many systems start
//! services at a soft 1,024 while allowing far more), and `stomp.max_connections`, when
//! not configured (0), is derived from the result: the limit less a reserve for what
//! else the process opens (connections to Kafka, MongoDB, Redis and the HTTP services,
//! REST and SockJS polling requests, files being uploaded or served, the runtime's
//! own descriptors). With the cap below the limit, a client over it is refused with
//! HTTP 503 instead of the process running out of descriptors.

/// The process's `RLIMIT_NOFILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescriptorLimit {
    /// The limit in force.
    pub soft: u64,
    /// What the soft limit may be raised to without privileges.
    pub hard: u64,
}

/// The smallest reserve kept for descriptors other than client connections.
pub const MIN_RESERVE: u64 = 256;

impl DescriptorLimit {
    /// Descriptors kept for everything but client connections: a tenth of the soft
    /// limit, at least [`MIN_RESERVE`], but never more than half of it (so a small limit
    /// still serves some clients).
    pub fn reserve(self) -> u64 {
        (self.soft / 10).max(MIN_RESERVE).min(self.soft / 2)
    }

    /// The client connections this limit leaves room for: `soft - reserve`.
    pub fn connections(self) -> usize {
        usize::try_from(self.soft - self.reserve()).unwrap_or(usize::MAX)
    }
}

/// Where the effective `stomp.max_connections` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionLimit {
    /// Configured, and within what the descriptor limit leaves room for (or no limit is known).
    Configured(usize),
    /// Configured above what the descriptor limit leaves room for (`room`): honoured,
    /// but clients beyond `room` may meet accept errors instead of a 503.
    ConfiguredAboveRoom { max: usize, room: usize },
    /// Not configured: derived from the descriptor limit.
    Derived(usize),
    /// Not configured and no descriptor limit known: no cap.
    Unlimited,
}

impl ConnectionLimit {
    /// The cap given `stomp.max_connections` as configured (0 = derive it) and the
    /// descriptor limit in force, if known.
    pub fn choose(configured: usize, limit: Option<DescriptorLimit>) -> Self {
        let room = limit.map(DescriptorLimit::connections);
        match (configured, room) {
            (0, Some(room)) => Self::Derived(room),
            (0, None) => Self::Unlimited,
            (max, Some(room)) if max > room => Self::ConfiguredAboveRoom { max, room },
            (max, _) => Self::Configured(max),
        }
    }

    /// The cap for `stomp.max_connections` (0 = none).
    pub fn max(self) -> usize {
        match self {
            Self::Configured(max) | Self::ConfiguredAboveRoom { max, .. } | Self::Derived(max) => {
                max
            }
            Self::Unlimited => 0,
        }
    }

    /// Logs the cap in force at start (a warning when configured above the room).
    pub fn log(self) {
        match self {
            Self::Configured(max) => {
                tracing::info!(max_connections = max, "connection limit (configured)");
            }
            Self::ConfiguredAboveRoom { max, room } => tracing::warn!(
                max_connections = max,
                room,
                "connection limit configured above what the file-descriptor limit leaves room for; honoured, but clients beyond the room may meet accept errors instead of a 503"
            ),
            Self::Derived(max) => tracing::info!(
                max_connections = max,
                "connection limit (derived from the file-descriptor limit)"
            ),
            Self::Unlimited => tracing::warn!(
                "no connection limit: stomp.max_connections is 0 and the file-descriptor limit is unknown"
            ),
        }
    }
}

/// Raises the soft descriptor limit to the hard one and logs the result; returns the
/// limit in force afterwards (`None` when the system has none or it cannot be read).
#[cfg(unix)]
pub fn raise() -> Option<DescriptorLimit> {
    use rlimit::Resource;

    let read = || {
        Resource::NOFILE
            .get()
            .map(|(soft, hard)| DescriptorLimit { soft, hard })
    };
    let before = match read() {
        Ok(before) => before,
        Err(error) => {
            tracing::warn!(%error, "cannot read the file-descriptor limit");
            return None;
        }
    };
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(%error, soft = before.soft, hard = before.hard, "cannot raise the file-descriptor limit");
        return Some(before);
    }
    let after = read().unwrap_or(before);
    tracing::info!(
        soft = after.soft,
        hard = after.hard,
        soft_before = before.soft,
        "file-descriptor limit"
    );
    Some(after)
}

/// No `RLIMIT_NOFILE` here: nothing to raise.
#[cfg(not(unix))]
pub fn raise() -> Option<DescriptorLimit> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(soft: u64) -> DescriptorLimit {
        DescriptorLimit { soft, hard: soft }
    }

    #[test]
    fn a_tenth_of_the_limit_is_kept_back_but_at_least_256_and_at_most_half() {
        assert_eq!(limit(1_048_576).connections(), 943_719);
        assert_eq!(limit(20_000).connections(), 18_000);
        assert_eq!(limit(2_000).connections(), 1_744);
        assert_eq!(limit(1_024).connections(), 768);
        assert_eq!(limit(256).connections(), 128);
        assert_eq!(limit(0).connections(), 0);
    }

    #[test]
    fn an_unconfigured_cap_is_derived_from_the_descriptor_limit() {
        assert_eq!(
            ConnectionLimit::choose(0, Some(limit(2_000))),
            ConnectionLimit::Derived(1_744)
        );
        assert_eq!(ConnectionLimit::choose(0, None), ConnectionLimit::Unlimited);
        assert_eq!(ConnectionLimit::Unlimited.max(), 0);
    }

    #[test]
    fn a_configured_cap_is_honoured_even_above_the_room_the_limit_leaves() {
        assert_eq!(
            ConnectionLimit::choose(100, Some(limit(2_000))),
            ConnectionLimit::Configured(100)
        );
        let above = ConnectionLimit::choose(5_000, Some(limit(2_000)));
        assert_eq!(
            above,
            ConnectionLimit::ConfiguredAboveRoom {
                max: 5_000,
                room: 1_744
            }
        );
        assert_eq!(above.max(), 5_000);
        assert_eq!(
            ConnectionLimit::choose(5_000, None),
            ConnectionLimit::Configured(5_000)
        );
    }
}

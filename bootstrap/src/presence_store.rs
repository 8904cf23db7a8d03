//! The presence store chosen by configuration: in process (embedded mode) or Redis
//! (`[redis]` present), shared by every instance, with per-instance leases.

use adapter_memory::MemoryPresenceStore;
use adapter_redis::RedisPresenceStore;
use application::ports::outbound::{ClosedSession, PresenceError, PresenceStore};
use domain::{Session, SessionId, UserId};

/// One of the two presence adapters; delegates every call to it.
pub enum Presence {
    /// In process.
    Memory(MemoryPresenceStore),
    /// Redis, shared by every instance.
    Redis(RedisPresenceStore),
}

impl PresenceStore for Presence {
    async fn open(&self, session: &Session) -> Result<usize, PresenceError> {
        match self {
            Self::Memory(store) => store.open(session).await,
            Self::Redis(store) => store.open(session).await,
        }
    }

    async fn close(&self, id: &SessionId) -> Result<Option<ClosedSession>, PresenceError> {
        match self {
            Self::Memory(store) => store.close(id).await,
            Self::Redis(store) => store.close(id).await,
        }
    }

    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, PresenceError> {
        match self {
            Self::Memory(store) => store.online_among(users).await,
            Self::Redis(store) => store.online_among(users).await,
        }
    }

    async fn renew_lease(&self) -> Result<(), PresenceError> {
        match self {
            Self::Memory(store) => store.renew_lease().await,
            Self::Redis(store) => store.renew_lease().await,
        }
    }

    async fn orphaned_sessions(&self) -> Result<Vec<SessionId>, PresenceError> {
        match self {
            Self::Memory(store) => store.orphaned_sessions().await,
            Self::Redis(store) => store.orphaned_sessions().await,
        }
    }
}

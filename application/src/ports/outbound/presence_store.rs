use domain::{Session, SessionId, UserId};

/// The session a [`PresenceStore::close`] removed, and how many of its user's sessions remain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedSession {
    /// The session that was open until now.
    pub session: Session,
    /// Sessions of the same user still open (0: the user is now offline).
    pub remaining: usize,
}

/// Open sessions, and so who is online.
///
/// Implemented by `adapters/memory` (`MemoryPresenceStore`); mocked as `MockPresenceStore`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait PresenceStore: Send + Sync + 'static {
    /// Record an open session; returns how many sessions its user now has (1: just came online).
    ///
    /// # Errors
    /// [`PresenceError::Unavailable`] when the store failed.
    async fn open(&self, session: &Session) -> Result<usize, PresenceError>;

    /// Remove a session. `None` when it was unknown or already closed, which is how
    /// a second disconnect of the same session is recognised.
    ///
    /// # Errors
    /// [`PresenceError::Unavailable`] when the store failed.
    async fn close(&self, id: &SessionId) -> Result<Option<ClosedSession>, PresenceError>;

    /// Those of `users` who have at least one open session.
    ///
    /// # Errors
    /// [`PresenceError::Unavailable`] when the store failed.
    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, PresenceError>;

    /// Keeps the sessions this instance opened alive for another lease period. An
    /// instance that stops renewing (it died) leaves its sessions orphaned.
    ///
    /// # Errors
    /// [`PresenceError::Unavailable`] when the store failed.
    async fn renew_lease(&self) -> Result<(), PresenceError>;

    /// Open sessions whose instance's lease ran out. Each is still open: closing it
    /// with [`PresenceStore::close`] is what claims it, so when several survivors
    /// find the same orphan only one of them closes it.
    ///
    /// # Errors
    /// [`PresenceError::Unavailable`] when the store failed.
    async fn orphaned_sessions(&self) -> Result<Vec<SessionId>, PresenceError>;
}

/// Failures of the presence store.
#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    /// The store could not be reached or failed; the cause is attached.
    #[error("presence store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

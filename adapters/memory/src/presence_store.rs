//! Open sessions and online users, in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use application::ports::outbound::{ClosedSession, PresenceError, PresenceStore};
use domain::{Session, SessionId, UserId};

use crate::lock;

#[derive(Debug, Default)]
struct Sessions {
    by_id: HashMap<SessionId, Session>,
    per_user: HashMap<UserId, usize>,
}

/// The embedded presence store.
#[derive(Debug, Default)]
pub struct MemoryPresenceStore {
    sessions: Mutex<Sessions>,
}

impl MemoryPresenceStore {
    /// Whether the user has any open session.
    #[cfg(test)]
    pub fn is_online(&self, user: UserId) -> bool {
        lock(&self.sessions).per_user.contains_key(&user)
    }
}

#[async_trait::async_trait]
impl PresenceStore for MemoryPresenceStore {
    async fn open(&self, session: &Session) -> Result<usize, PresenceError> {
        let mut sessions = lock(&self.sessions);
        if sessions
            .by_id
            .insert(session.id.clone(), session.clone())
            .is_some()
        {
            return Ok(sessions.per_user.get(&session.user).copied().unwrap_or(0));
        }
        let count = sessions.per_user.entry(session.user).or_insert(0);
        *count += 1;
        Ok(*count)
    }

    async fn close(&self, id: &SessionId) -> Result<Option<ClosedSession>, PresenceError> {
        let mut sessions = lock(&self.sessions);
        let Some(session) = sessions.by_id.remove(id) else {
            return Ok(None);
        };
        let remaining = match sessions.per_user.get_mut(&session.user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                *count
            }
            _ => {
                sessions.per_user.remove(&session.user);
                0
            }
        };
        Ok(Some(ClosedSession { session, remaining }))
    }

    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, PresenceError> {
        let sessions = lock(&self.sessions);
        Ok(users
            .iter()
            .copied()
            .filter(|user| sessions.per_user.contains_key(user))
            .collect())
    }

    /// One process holds every session: none outlives its instance.
    async fn renew_lease(&self) -> Result<(), PresenceError> {
        Ok(())
    }

    async fn orphaned_sessions(&self) -> Result<Vec<SessionId>, PresenceError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use domain::Timestamp;

    use super::*;

    fn session(id: &str, user: u64) -> Session {
        Session {
            id: SessionId::parse(id).expect("id"),
            user: UserId::new(user),
            opened_at: Timestamp::from_unix_micros(0),
        }
    }

    #[tokio::test]
    async fn a_user_stays_online_until_their_last_session_closes() {
        let store = MemoryPresenceStore::default();
        assert_eq!(store.open(&session("a", 1)).await.expect("open"), 1);
        assert_eq!(store.open(&session("b", 1)).await.expect("open"), 2);

        let first = store.close(&session("a", 1).id).await.expect("close");
        assert_eq!(first.map(|c| c.remaining), Some(1));
        assert!(store.is_online(UserId::new(1)));

        let last = store.close(&session("b", 1).id).await.expect("close");
        assert_eq!(last.map(|c| c.remaining), Some(0));
        assert!(!store.is_online(UserId::new(1)));
    }

    #[tokio::test]
    async fn closing_a_session_twice_reports_nothing_the_second_time() {
        let store = MemoryPresenceStore::default();
        store.open(&session("a", 1)).await.expect("open");
        assert!(
            store
                .close(&session("a", 1).id)
                .await
                .expect("close")
                .is_some()
        );
        assert!(
            store
                .close(&session("a", 1).id)
                .await
                .expect("close")
                .is_none()
        );
    }
}

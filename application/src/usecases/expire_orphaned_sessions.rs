//! Use case: keep this instance's sessions alive in the shared presence store, and end
//! the sessions of instances that died (their lease ran out) so that their users go
//! offline for everyone and the rooms hear `disconnect`, as if each socket had closed.

use crate::ports::outbound::{PresenceError, PresenceStore};
use crate::usecases::DisconnectSession;
use std::sync::Arc;

/// Every way [`ExpireOrphanedSessions::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum ExpireError {
    /// The presence store failed; this round renewed or reaped nothing (the next one retries).
    #[error("presence store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(ExpireError: PresenceError);

/// One round of lease upkeep; bootstrap runs it several times per lease period.
pub struct ExpireOrphanedSessions {
    presence: Arc<dyn PresenceStore>,
    disconnect: DisconnectSession,
}

impl ExpireOrphanedSessions {
    /// Wires the use case to its ports; orphans are closed the way any session is.
    pub fn new(presence: Arc<dyn PresenceStore>, disconnect: DisconnectSession) -> Self {
        Self {
            presence,
            disconnect,
        }
    }

    /// Renews this instance's lease, then closes every orphaned session. Closing is the
    /// claim, so when several survivors race for the same orphan exactly one of them
    /// announces it. Returns how many sessions this instance closed.
    #[tracing::instrument(name = "expire_orphaned_sessions", skip_all)]
    pub async fn execute(&self) -> Result<usize, ExpireError> {
        self.presence.renew_lease().await?;
        let orphans = self.presence.orphaned_sessions().await?;
        let mut closed = 0;
        for session in orphans {
            match self.disconnect.execute(session.clone()).await {
                Ok(true) => closed += 1,
                Ok(false) => {} // another survivor claimed it first
                Err(error) => {
                    tracing::warn!(?error, %session, "orphaned session not closed; retried next round");
                }
            }
        }
        if closed > 0 {
            tracing::info!(closed, "sessions of a dead instance closed");
        }
        Ok(closed)
    }
}

#[cfg(test)]
mod tests {
    use domain::{Audience, ChatEvent, CommunityId, PresenceStatus, Session, SessionId};

    use super::*;
    use crate::ports::outbound::ClosedSession;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder, NOW};

    fn use_case(m: Mocks) -> ExpireOrphanedSessions {
        let disconnect = DisconnectSession::new(
            m.presence.clone(),
            m.state,
            m.directory,
            m.bus,
            m.store,
            m.markers,
        );
        ExpireOrphanedSessions::new(m.presence, disconnect)
    }

    fn sid(id: &str) -> SessionId {
        SessionId::parse(id).expect("id")
    }

    fn closed(id: &str) -> ClosedSession {
        ClosedSession {
            session: Session {
                id: sid(id),
                user: ALICE,
                opened_at: NOW,
            },
            remaining: 0,
        }
    }

    #[tokio::test]
    async fn orphaned_sessions_are_closed_and_their_users_announced_offline() {
        let mut m = MocksBuilder::new();
        m.presence
            .expect_renew_lease()
            .times(1)
            .returning(|| Ok(()));
        m.presence
            .expect_orphaned_sessions()
            .returning(|| Ok(vec![sid("dead-1")]));
        m.presence
            .expect_close()
            .times(1)
            .returning(|id| Ok(Some(closed(id.as_str()))));
        m.state.expect_logout().times(1).returning(|_| Ok(None));
        m.directory
            .expect_rooms_of()
            .returning(|_| Ok(vec![Audience::Community(CommunityId::new(3))]));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Presence(p) if p.status == PresenceStatus::Offline))
            .times(1)
            .returning(|_| Ok(()));

        assert_eq!(use_case(m.build()).execute().await.expect("round"), 1);
    }

    #[tokio::test]
    async fn an_orphan_another_survivor_claimed_first_is_not_announced_again() {
        let mut m = MocksBuilder::new();
        m.presence.expect_renew_lease().returning(|| Ok(()));
        m.presence
            .expect_orphaned_sessions()
            .returning(|| Ok(vec![sid("dead-1")]));
        m.presence.expect_close().returning(|_| Ok(None));
        m.state.expect_logout().never();
        m.bus.expect_publish().never();

        assert_eq!(use_case(m.build()).execute().await.expect("round"), 0);
    }

    #[tokio::test]
    async fn a_failed_lease_renewal_reaps_nothing_and_reports_the_failure() {
        let mut m = MocksBuilder::new();
        m.presence
            .expect_renew_lease()
            .returning(|| Err(PresenceError::Unavailable(anyhow::anyhow!("down"))));
        m.presence.expect_orphaned_sessions().never();

        assert!(matches!(
            use_case(m.build()).execute().await,
            Err(ExpireError::Unavailable(_))
        ));
    }
}

//! Use case: a session ends (DISCONNECT frame, socket loss or shutdown); the lobby
//! hears the user went offline when it was their last session.

use std::sync::Arc;

use domain::{PresenceStatus, SessionId};

use super::lobby::announce_presence;
use crate::ports::outbound::{Ports, PresenceError, PresenceStore, SessionStateGateway};

/// Every way [`DisconnectSession::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    /// The presence store failed; the session may still count as open.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(DisconnectError: PresenceError);

/// Closes a session exactly once: a second call for the same session (the seed ran
/// its disconnect twice) or a call for an unknown session does nothing.
pub struct DisconnectSession<P: Ports> {
    presence: Arc<P::Presence>,
    state: Arc<P::State>,
    directory: Arc<P::Directory>,
    bus: Arc<P::Bus>,
}

impl<P: Ports> DisconnectSession<P> {
    /// Wires the use case to its ports.
    pub fn new(
        presence: Arc<P::Presence>,
        state: Arc<P::State>,
        directory: Arc<P::Directory>,
        bus: Arc<P::Bus>,
    ) -> Self {
        Self {
            presence,
            state,
            directory,
            bus,
        }
    }

    /// Runs the use case. Returns whether a session was actually closed.
    #[tracing::instrument(name = "disconnect_session", skip_all, fields(session = %session))]
    pub async fn execute(&self, session: SessionId) -> Result<bool, DisconnectError> {
        let Some(closed) = self.presence.close(&session).await? else {
            tracing::debug!("session unknown or already closed");
            return Ok(false);
        };
        if let Err(error) = self.state.logout(&session).await {
            tracing::warn!(?error, "state server not told of logout");
        }
        if closed.remaining == 0 {
            announce_presence(
                &*self.directory,
                &*self.bus,
                closed.session.user,
                PresenceStatus::Offline,
            )
            .await;
        }
        tracing::info!(user = %closed.session.user, "session closed");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use domain::{Audience, ChatEvent, CommunityId, Session};

    use super::*;
    use crate::ports::outbound::ClosedSession;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder, NOW};

    fn use_case(m: Mocks) -> DisconnectSession<Mocks> {
        DisconnectSession::new(m.presence, m.state, m.directory, m.bus)
    }

    fn sid() -> SessionId {
        SessionId::parse("s1").expect("id")
    }

    fn closed(remaining: usize) -> ClosedSession {
        ClosedSession {
            session: Session {
                id: sid(),
                user: ALICE,
                opened_at: NOW,
            },
            remaining,
        }
    }

    #[tokio::test]
    async fn closing_the_last_session_logs_out_and_announces_offline() {
        let mut m = MocksBuilder::new();
        m.presence.expect_close().returning(|_| Ok(Some(closed(0))));
        m.state.expect_logout().times(1).returning(|_| Ok(()));
        m.directory
            .expect_rooms_of()
            .returning(|_| Ok(vec![Audience::Community(CommunityId::new(3))]));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Presence(p) if p.status == PresenceStatus::Offline))
            .times(1)
            .returning(|_| Ok(()));

        assert!(use_case(m.build()).execute(sid()).await.expect("closed"));
    }

    #[tokio::test]
    async fn an_unknown_or_already_closed_session_sends_no_second_offline_event() {
        let mut m = MocksBuilder::new();
        m.presence.expect_close().returning(|_| Ok(None));
        m.state.expect_logout().never();
        m.bus.expect_publish().never();

        assert!(!use_case(m.build()).execute(sid()).await.expect("no-op"));
    }

    #[tokio::test]
    async fn a_user_with_other_sessions_stays_online() {
        let mut m = MocksBuilder::new();
        m.presence.expect_close().returning(|_| Ok(Some(closed(1))));
        m.state.expect_logout().times(1).returning(|_| Ok(()));
        m.bus.expect_publish().never();

        assert!(use_case(m.build()).execute(sid()).await.expect("closed"));
    }
}

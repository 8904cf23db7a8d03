//! Use case: a session ends (DISCONNECT frame, socket loss or shutdown); the lobby
//! hears the user went offline when it was their last session.

use std::sync::Arc;

use domain::{Location, PresenceStatus, SessionId, UserId};

use super::lobby::announce_presence;
use crate::ports::outbound::{
    CommunityDirectory, EventBus, MessageStore, PresenceError, PresenceStore, ReadMarkers,
    SessionStateGateway,
};

/// Every way [`DisconnectSession::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    /// The presence store failed; the session may still count as open.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(DisconnectError: PresenceError);

/// Closes a session exactly once: a second call for the same session (the seed ran
/// its disconnect twice) or a call for an unknown session does nothing. The room the
/// user was in when the session closed counts as read (the seed's `setRoomTime`).
pub struct DisconnectSession {
    presence: Arc<dyn PresenceStore>,
    state: Arc<dyn SessionStateGateway>,
    directory: Arc<dyn CommunityDirectory>,
    bus: Arc<dyn EventBus>,
    store: Arc<dyn MessageStore>,
    markers: Arc<dyn ReadMarkers>,
}

impl DisconnectSession {
    /// Wires the use case to its ports.
    pub fn new(
        presence: Arc<dyn PresenceStore>,
        state: Arc<dyn SessionStateGateway>,
        directory: Arc<dyn CommunityDirectory>,
        bus: Arc<dyn EventBus>,
        store: Arc<dyn MessageStore>,
        markers: Arc<dyn ReadMarkers>,
    ) -> Self {
        Self {
            presence,
            state,
            directory,
            bus,
            store,
            markers,
        }
    }

    /// Marks the room the user was in as read; failures are logged, not returned.
    async fn mark_last_room_read(&self, user: UserId, last: Location) {
        let Some(room) = last.room() else { return };
        let newest = match self.store.activity(room, user, None).await {
            Ok(activity) => activity.last_seq,
            Err(error) => {
                tracing::warn!(?error, "last room not marked read");
                return;
            }
        };
        if let Some(newest) = newest
            && let Err(error) = self.markers.mark_read(user, room, newest).await
        {
            tracing::warn!(?error, "last room not marked read");
        }
    }

    /// Runs the use case. Returns whether a session was actually closed.
    #[tracing::instrument(name = "disconnect_session", skip_all, fields(session = %session))]
    pub async fn execute(&self, session: SessionId) -> Result<bool, DisconnectError> {
        let Some(closed) = self.presence.close(&session).await? else {
            tracing::debug!("session unknown or already closed");
            return Ok(false);
        };
        match self.state.logout(&session).await {
            Ok(Some(last)) => self.mark_last_room_read(closed.session.user, last).await,
            Ok(None) => {}
            Err(error) => tracing::warn!(?error, "state server not told of logout"),
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

    fn use_case(m: Mocks) -> DisconnectSession {
        DisconnectSession::new(m.presence, m.state, m.directory, m.bus, m.store, m.markers)
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
        m.state.expect_logout().times(1).returning(|_| Ok(None));
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
    async fn the_room_the_user_was_in_when_the_session_closed_is_marked_read() {
        use domain::{RoomId, RoomKey, Seq};

        use crate::ports::outbound::RoomActivity;

        let mut m = MocksBuilder::new();
        m.presence.expect_close().returning(|_| Ok(Some(closed(1))));
        m.state
            .expect_logout()
            .returning(|_| Ok(Some(Location::Room(RoomId::new(5)))));
        m.store.expect_activity().returning(|_, _, _| {
            Ok(RoomActivity {
                last_seq: Some(Seq::new(4)),
                ..RoomActivity::default()
            })
        });
        m.markers
            .expect_mark_read()
            .withf(|user, room, seq| {
                *user == ALICE && *room == RoomKey::Direct(RoomId::new(5)) && *seq == Seq::new(4)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));

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
        m.state.expect_logout().times(1).returning(|_| Ok(None));
        m.bus.expect_publish().never();

        assert!(use_case(m.build()).execute(sid()).await.expect("closed"));
    }
}

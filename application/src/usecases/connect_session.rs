//! Use case: a client opens a session with an access token; the lobby hears the user came online.

use std::sync::Arc;
use std::time::Duration;

use domain::{PresenceStatus, Session, Timestamp, UserId, UserProfile};

use super::lobby::announce_presence;
use crate::ports::outbound::{
    Clock, CommunityDirectory, EventBus, IdGenerator, PresenceError, PresenceStore,
    SessionStateGateway, TokenError, TokenVerifier, UserDirectory,
};

/// Input of [`ConnectSession`], from a STOMP `CONNECT` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectCommand {
    /// The access token, if any was presented.
    pub token: Option<String>,
    /// The user id the client claims (`user-id` header); must match the token.
    pub claimed_user: Option<String>,
}

/// An open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The session.
    pub session: Session,
    /// The user as the token describes them.
    pub profile: UserProfile,
    /// How long the access token stays valid; the session must end then.
    pub token_valid_for: Duration,
}

/// Every way [`ConnectSession::execute`] can fail. Nothing else happens on failure:
/// no presence, no state-server call, no event.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The token is missing or invalid.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The claimed user id is not the token's.
    #[error("user-id `{claimed}` does not match the access token")]
    UserMismatch {
        /// What the client claimed.
        claimed: String,
    },
    /// The session could not be recorded.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(ConnectError: PresenceError);

/// Verifies the token, records the session, tells the state server, and
/// announces the user's first session to their rooms.
pub struct ConnectSession {
    tokens: Arc<dyn TokenVerifier>,
    users: Arc<dyn UserDirectory>,
    presence: Arc<dyn PresenceStore>,
    state: Arc<dyn SessionStateGateway>,
    directory: Arc<dyn CommunityDirectory>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl ConnectSession {
    /// Wires the use case to its ports.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tokens: Arc<dyn TokenVerifier>,
        users: Arc<dyn UserDirectory>,
        presence: Arc<dyn PresenceStore>,
        state: Arc<dyn SessionStateGateway>,
        directory: Arc<dyn CommunityDirectory>,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            tokens,
            users,
            presence,
            state,
            directory,
            bus,
            clock,
            ids,
        }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "connect_session", skip_all)]
    pub async fn execute(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError> {
        let token = cmd.token.ok_or(TokenError::Missing)?;
        let verified = self.tokens.verify(&token)?;
        if let Some(claimed) = cmd.claimed_user
            && UserId::parse(&claimed) != Ok(verified.user)
        {
            return Err(ConnectError::UserMismatch { claimed });
        }
        let profile = verified.profile();
        if let Err(error) = self.users.learn(&profile).await {
            tracing::warn!(user = %profile.id, ?error, "user directory did not take the token's profile");
        }
        let session = Session {
            id: self.ids.session_id(),
            user: verified.user,
            opened_at: self.clock.now(),
        };
        let sessions = self.presence.open(&session).await?;
        if let Err(error) = self.state.login(&session).await {
            tracing::warn!(session = %session.id, ?error, "state server not told of login");
        }
        if sessions == 1 {
            announce_presence(
                &*self.directory,
                &*self.bus,
                session.user,
                PresenceStatus::Online,
            )
            .await;
        }
        let token_valid_for = until(self.clock.now(), verified.expires_at);
        tracing::info!(session = %session.id, user = %session.user, "session opened");
        Ok(Connected {
            session,
            profile,
            token_valid_for,
        })
    }
}

/// The time from `now` to `then`, zero when `then` has passed.
fn until(now: Timestamp, then: Timestamp) -> Duration {
    let micros = then.unix_micros().saturating_sub(now.unix_micros());
    Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use domain::{Audience, ChatEvent, RoomId};

    use super::*;
    use crate::ports::outbound::VerifiedToken;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder, NOW};

    /// When the test tokens expire: an hour and a half after the mocked clock's now.
    const EXPIRES: Timestamp = Timestamp::from_unix_micros(NOW.unix_micros() + 5_400_000_000);

    fn use_case(m: Mocks) -> ConnectSession {
        ConnectSession::new(
            m.tokens,
            m.users,
            m.presence,
            m.state,
            m.directory,
            m.bus,
            m.clock,
            m.ids,
        )
    }

    fn valid_token_for_alice(m: &mut MocksBuilder) {
        m.tokens.expect_verify().returning(|_| {
            Ok(VerifiedToken {
                user: ALICE,
                subject: "alice@example.com".into(),
                name: Some("alice".into()),
                image: None,
                expires_at: EXPIRES,
            })
        });
        m.users.expect_learn().returning(|_| Ok(()));
    }

    fn command(claimed: Option<&str>) -> ConnectCommand {
        ConnectCommand {
            token: Some("jwt".into()),
            claimed_user: claimed.map(Into::into),
        }
    }

    #[tokio::test]
    async fn a_first_session_logs_in_and_announces_the_user_to_their_rooms() {
        let mut m = MocksBuilder::new();
        valid_token_for_alice(&mut m);
        m.presence.expect_open().times(1).returning(|_| Ok(1));
        m.state.expect_login().times(1).returning(|_| Ok(()));
        m.directory
            .expect_rooms_of()
            .returning(|_| Ok(vec![Audience::Direct(RoomId::new(5))]));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Presence(p) if p.status == PresenceStatus::Online && p.user == ALICE))
            .times(1)
            .returning(|_| Ok(()));

        let connected = use_case(m.build())
            .execute(command(Some("1")))
            .await
            .expect("connected");

        assert_eq!(connected.session.user, ALICE);
    }

    #[tokio::test]
    async fn the_session_is_told_how_long_its_token_stays_valid() {
        let mut m = MocksBuilder::new();
        valid_token_for_alice(&mut m);
        m.presence.expect_open().returning(|_| Ok(2));
        m.state.expect_login().returning(|_| Ok(()));

        let connected = use_case(m.build())
            .execute(command(None))
            .await
            .expect("connected");

        assert_eq!(connected.token_valid_for, Duration::from_secs(5400));
    }

    #[test]
    fn a_token_past_its_expiry_is_valid_for_no_time_at_all() {
        let earlier = Timestamp::from_unix_micros(NOW.unix_micros() - 1);
        assert_eq!(until(NOW, earlier), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_second_session_of_an_online_user_announces_nothing() {
        let mut m = MocksBuilder::new();
        valid_token_for_alice(&mut m);
        m.presence.expect_open().returning(|_| Ok(2));
        m.state.expect_login().returning(|_| Ok(()));
        m.bus.expect_publish().never();

        use_case(m.build())
            .execute(command(None))
            .await
            .expect("connected");
    }

    #[tokio::test]
    async fn a_bad_token_opens_nothing() {
        let mut m = MocksBuilder::new();
        m.tokens
            .expect_verify()
            .returning(|_| Err(TokenError::Expired));
        m.presence.expect_open().never();
        m.state.expect_login().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command(Some("1"))).await;

        assert!(matches!(err, Err(ConnectError::Token(TokenError::Expired))));
    }

    #[tokio::test]
    async fn a_missing_token_is_refused() {
        let mut m = MocksBuilder::new();
        m.presence.expect_open().never();

        let err = use_case(m.build())
            .execute(ConnectCommand {
                token: None,
                claimed_user: None,
            })
            .await;

        assert!(matches!(err, Err(ConnectError::Token(TokenError::Missing))));
    }

    #[tokio::test]
    async fn a_user_id_header_that_differs_from_the_token_is_refused() {
        let mut m = MocksBuilder::new();
        valid_token_for_alice(&mut m);
        m.presence.expect_open().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command(Some("2"))).await;

        assert!(matches!(err, Err(ConnectError::UserMismatch { claimed }) if claimed == "2"));
    }

    #[tokio::test]
    async fn a_state_server_outage_does_not_stop_the_user_connecting() {
        let mut m = MocksBuilder::new();
        valid_token_for_alice(&mut m);
        m.presence.expect_open().returning(|_| Ok(1));
        m.state.expect_login().returning(|_| {
            Err(crate::ports::outbound::GatewayError::Unavailable(
                anyhow::anyhow!("down"),
            ))
        });
        m.directory.expect_rooms_of().returning(|_| Ok(vec![]));

        let connected = use_case(m.build()).execute(command(None)).await;

        assert!(connected.is_ok());
    }
}

//! A stand-in for the app's external state server: remembers which sessions are logged in.

use std::collections::HashMap;
use std::sync::Mutex;

use application::ports::outbound::{GatewayError, SessionStateGateway};
use domain::{Session, SessionId, UserId};

use crate::lock;

/// The embedded state server.
#[derive(Debug, Default)]
pub struct MemoryStateServer {
    logged_in: Mutex<HashMap<SessionId, UserId>>,
}

impl MemoryStateServer {
    /// The user of a logged-in session.
    pub fn user_of(&self, session: &SessionId) -> Option<UserId> {
        lock(&self.logged_in).get(session).copied()
    }
}

impl SessionStateGateway for MemoryStateServer {
    async fn login(&self, session: &Session) -> Result<(), GatewayError> {
        lock(&self.logged_in).insert(session.id.clone(), session.user);
        Ok(())
    }

    async fn logout(&self, session: &SessionId) -> Result<(), GatewayError> {
        lock(&self.logged_in).remove(session);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::Timestamp;

    use super::*;

    #[tokio::test]
    async fn a_logged_in_session_is_known_until_it_logs_out() {
        let server = MemoryStateServer::default();
        let session = Session {
            id: SessionId::parse("s").expect("id"),
            user: UserId::new(7),
            opened_at: Timestamp::from_unix_micros(0),
        };
        server.login(&session).await.expect("login");
        assert_eq!(server.user_of(&session.id), Some(UserId::new(7)));
        server.logout(&session.id).await.expect("logout");
        assert_eq!(server.user_of(&session.id), None);
    }
}

//! [`Sessions`]: a STOMP connection's session, from CONNECT to its end.

use domain::SessionId;

use crate::usecases::{ConnectCommand, ConnectError, Connected, DisconnectError};

/// Opening and closing a session; the user's rooms hear them come online and go offline.
///
/// Implemented in `crate::service`; mocked as `MockSessions`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Sessions: Send + Sync + 'static {
    /// Open a session from an access token. See [`ConnectError`].
    async fn connect(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError>;
    /// Close a session; `Ok(false)` when it was unknown or already closed.
    async fn disconnect(&self, session: SessionId) -> Result<bool, DisconnectError>;
}

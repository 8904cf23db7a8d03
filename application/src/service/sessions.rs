//! The [`Sessions`] port over its use cases.

use domain::SessionId;

use super::Adapters;
use crate::ports::inbound::Sessions;
use crate::usecases::{
    ConnectCommand, ConnectError, ConnectSession, Connected, DisconnectError, DisconnectSession,
};

/// The use cases behind [`Sessions`].
pub(super) struct SessionUseCases {
    connect: ConnectSession,
    disconnect: DisconnectSession,
}

impl SessionUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            connect: ConnectSession::new(
                a.tokens.clone(),
                a.users.clone(),
                a.presence.clone(),
                a.state.clone(),
                a.directory.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
            ),
            disconnect: DisconnectSession::new(
                a.presence.clone(),
                a.state.clone(),
                a.directory.clone(),
                a.bus.clone(),
                a.store.clone(),
                a.markers.clone(),
            ),
        }
    }
}

#[async_trait::async_trait]
impl Sessions for SessionUseCases {
    async fn connect(&self, cmd: ConnectCommand) -> Result<Connected, ConnectError> {
        self.connect.execute(cmd).await
    }
    async fn disconnect(&self, session: SessionId) -> Result<bool, DisconnectError> {
        self.disconnect.execute(session).await
    }
}

use domain::{Session, SessionId};

/// The app's external state server, told when sessions open and close.
///
/// Implemented by `adapters/memory` (`MemoryStateServer`); mocked as `MockSessionStateGateway`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[trait_variant::make(Send)]
pub trait SessionStateGateway: Send + Sync + 'static {
    /// A session opened (`login`).
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not be told.
    async fn login(&self, session: &Session) -> Result<(), GatewayError>;

    /// A session closed (`logout`).
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not be told.
    async fn logout(&self, session: &SessionId) -> Result<(), GatewayError>;
}

/// Failures of the state server gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The state server could not be reached, timed out or answered nonsense.
    #[error("state server unavailable")]
    Unavailable(#[source] anyhow::Error),
}

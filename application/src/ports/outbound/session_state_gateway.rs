use domain::{
    ChannelId, CommunityId, Location, LocationChange, Session, SessionId, UserId, VoiceOccupancy,
};

/// The app's external state server: sessions, where each user is, who is in which voice channel.
///
/// Implemented by `adapters/memory` (`MemoryStateServer`); mocked as `MockSessionStateGateway`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait SessionStateGateway: Send + Sync + 'static {
    /// A session opened (`login`).
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not be told.
    async fn login(&self, session: &Session) -> Result<(), GatewayError>;

    /// A session closed (`logout`); returns where its user last was, if known.
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not be told.
    async fn logout(&self, session: &SessionId) -> Result<Option<Location>, GatewayError>;

    /// `user` moved to `to` (`state`); returns where they were.
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not be told.
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, GatewayError>;

    /// `user` opened a community's page (`before-enter`): they leave any voice
    /// channel; returns the community's voice occupancy.
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not answer.
    async fn before_enter(
        &self,
        user: UserId,
        community: CommunityId,
    ) -> Result<VoiceOccupancy, GatewayError>;

    /// `user` joined a voice channel of a community (`enter`); returns the
    /// community's voice occupancy.
    ///
    /// # Errors
    /// [`GatewayError::Unavailable`] when the state server could not answer.
    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: ChannelId,
    ) -> Result<VoiceOccupancy, GatewayError>;
}

/// Failures of the state server gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The state server could not be reached, timed out or answered nonsense.
    #[error("state server unavailable")]
    Unavailable(#[source] anyhow::Error),
}

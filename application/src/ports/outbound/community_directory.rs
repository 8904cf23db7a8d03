use domain::{Audience, RoomRef, UserId};

/// Who belongs to which DM room and community.
///
/// Implemented by `adapters/memory` (`OpenCommunityDirectory`); mocked as `MockCommunityDirectory`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[trait_variant::make(Send)]
pub trait CommunityDirectory: Send + Sync + 'static {
    /// The DM rooms and communities of a user: where their presence is announced.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError>;

    /// Whether `user` may post in `room`.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError>;

    /// Whether `user` may hear `audience`.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError>;

    /// The members of a DM room (`Audience::Direct`) or a community (`Audience::Community`);
    /// for a channel (`Audience::Group`), its community's members when the directory knows
    /// which community that is. `None` when this directory does not restrict the group (anyone
    /// may use it), e.g. the open directory before any member list is set, or a channel whose
    /// community is unknown. What member caches are filled from.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError>;

    /// The members of a DM room (`Audience::Direct`) or a community
    /// (`Audience::Community`) changed: replace what is known (or cached) of them.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not record it.
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError>;
}

/// Failures of the community directory.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The directory could not be reached or failed; the cause is attached.
    #[error("community directory unavailable")]
    Unavailable(#[source] anyhow::Error),
}

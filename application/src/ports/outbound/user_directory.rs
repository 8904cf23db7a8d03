use domain::{UserId, UserProfile};

/// Display names and images of users.
///
/// Implemented by `adapters/memory` (`ClaimsUserDirectory`); mocked as `MockUserDirectory`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait UserDirectory: Send + Sync + 'static {
    /// The profile of a user; a directory that does not know the user returns
    /// [`UserProfile::anonymous`].
    ///
    /// # Errors
    /// [`UserDirectoryError::Unavailable`] when the directory could not answer.
    async fn profile(&self, user: UserId) -> Result<UserProfile, UserDirectoryError>;

    /// What a verified token says about its user. Directories backed by an
    /// authority may ignore it; the embedded directory learns profiles this way.
    ///
    /// # Errors
    /// [`UserDirectoryError::Unavailable`] when the directory could not record it.
    async fn learn(&self, profile: &UserProfile) -> Result<(), UserDirectoryError>;
}

/// Failures of the user directory.
#[derive(Debug, thiserror::Error)]
pub enum UserDirectoryError {
    /// The directory could not be reached or failed; the cause is attached.
    #[error("user directory unavailable")]
    Unavailable(#[source] anyhow::Error),
}

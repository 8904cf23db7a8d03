//! The user directory chosen by configuration: profiles learned from verified tokens
//! (embedded mode) or the app's auth service over HTTP (`[auth]` present).

use adapter_auth_http::HttpUserDirectory;
use adapter_memory::ClaimsUserDirectory;
use application::ports::outbound::{UserDirectory, UserDirectoryError};
use domain::{UserId, UserProfile};

/// One of the two user directory adapters; delegates every call to it.
pub enum Users {
    /// A user's profile is what their last verified token said.
    Claims(ClaimsUserDirectory),
    /// The auth service, falling back to the token's profile while it is down.
    Http(Box<HttpUserDirectory>),
}

impl Users {
    /// `None` when in process; else whether the auth service is reachable.
    pub async fn readiness(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Claims(_) => None,
            Self::Http(directory) => Some(directory.ping().await),
        }
    }
}

impl UserDirectory for Users {
    async fn profile(&self, user: UserId) -> Result<UserProfile, UserDirectoryError> {
        match self {
            Self::Claims(directory) => directory.profile(user).await,
            Self::Http(directory) => directory.profile(user).await,
        }
    }

    async fn learn(&self, profile: &UserProfile) -> Result<(), UserDirectoryError> {
        match self {
            Self::Claims(directory) => directory.learn(profile).await,
            Self::Http(directory) => directory.learn(profile).await,
        }
    }
}

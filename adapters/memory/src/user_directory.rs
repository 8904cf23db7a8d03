//! Display profiles learned from verified token claims.

use std::collections::HashMap;
use std::sync::Mutex;

use application::ports::outbound::{UserDirectory, UserDirectoryError};
use domain::{UserId, UserProfile};

use crate::lock;

/// The embedded user directory: a user's profile is what their last verified
/// token said; unknown users get [`UserProfile::anonymous`].
#[derive(Debug, Default)]
pub struct ClaimsUserDirectory {
    profiles: Mutex<HashMap<UserId, UserProfile>>,
}

#[async_trait::async_trait]
impl UserDirectory for ClaimsUserDirectory {
    async fn profile(&self, user: UserId) -> Result<UserProfile, UserDirectoryError> {
        Ok(lock(&self.profiles)
            .get(&user)
            .cloned()
            .unwrap_or_else(|| UserProfile::anonymous(user)))
    }

    async fn learn(&self, profile: &UserProfile) -> Result<(), UserDirectoryError> {
        lock(&self.profiles).insert(profile.id, profile.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_learned_profile_is_returned_and_unknown_users_are_anonymous() {
        let directory = ClaimsUserDirectory::default();
        let alice = UserProfile {
            id: UserId::new(1),
            name: "alice".into(),
            image: Some("https://img/a.png".into()),
        };
        directory.learn(&alice).await.expect("learned");

        assert_eq!(
            directory.profile(UserId::new(1)).await.expect("answer"),
            alice
        );
        assert_eq!(
            directory
                .profile(UserId::new(2))
                .await
                .expect("answer")
                .name,
            "2"
        );
    }
}

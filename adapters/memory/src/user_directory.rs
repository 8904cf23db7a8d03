//! Display profiles learned from verified token claims, at most [`MAX_PROFILES`]: when full,
//! the profiles used least recently are forgotten (their users read as anonymous until they
//! connect again).

use std::sync::Mutex;

use application::ports::outbound::{UserDirectory, UserDirectoryError};
use domain::{UserId, UserProfile};

use crate::lock;
use crate::recent_map::RecentMap;

/// Profiles kept. Each is what a signed token claimed (a name and an image URL), so its size
/// is the token issuer's choice; at a few hundred bytes apiece, some tens of MB.
const MAX_PROFILES: usize = 100_000;

/// The embedded user directory: a user's profile is what their last verified
/// token said; unknown users get [`UserProfile::anonymous`].
#[derive(Debug)]
pub struct ClaimsUserDirectory {
    profiles: Mutex<RecentMap<UserId, UserProfile>>,
}

impl ClaimsUserDirectory {
    /// A directory keeping at most `capacity` profiles.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            profiles: Mutex::new(RecentMap::new(capacity)),
        }
    }
}

impl Default for ClaimsUserDirectory {
    fn default() -> Self {
        Self::with_capacity(MAX_PROFILES)
    }
}

#[async_trait::async_trait]
impl UserDirectory for ClaimsUserDirectory {
    async fn profile(&self, user: UserId) -> Result<UserProfile, UserDirectoryError> {
        Ok(lock(&self.profiles)
            .get_mut(&user)
            .map_or_else(|| UserProfile::anonymous(user), |profile| profile.clone()))
    }

    async fn learn(&self, profile: &UserProfile) -> Result<(), UserDirectoryError> {
        let mut profiles = lock(&self.profiles);
        let (held, _) = profiles.use_or_insert_with(profile.id, || profile.clone());
        held.clone_from(profile);
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

    #[tokio::test]
    async fn a_full_directory_forgets_the_profiles_used_least_recently() {
        let directory = ClaimsUserDirectory::with_capacity(10);
        let named = |id: u64| UserProfile {
            id: UserId::new(id),
            name: format!("user {id}"),
            image: None,
        };
        for id in 0..10 {
            directory.learn(&named(id)).await.expect("learned");
        }
        // User 0 posts again, so user 1 is the least recently used.
        directory.profile(UserId::new(0)).await.expect("answer");

        directory.learn(&named(10)).await.expect("learned");

        let directory = &directory;
        let name = |id: u64| async move {
            directory
                .profile(UserId::new(id))
                .await
                .expect("answer")
                .name
        };
        assert_eq!(name(0).await, "user 0");
        assert_eq!(name(1).await, "1", "forgotten: anonymous");
        assert_eq!(name(10).await, "user 10");
    }
}

//! [`HttpUserDirectory`]: the port answered from the auth service, with profiles cached in memory
//! and, while the service is down, answered from the stale cache, from the user's verified token
//! or anonymously: a chat never fails because the auth service does.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use application::ports::outbound::{UserDirectory, UserDirectoryError};
use domain::{UserId, UserProfile};

use crate::client::AuthClient;
use crate::degraded::Degraded;
use crate::settings::AuthHttpSettings;
use ttl_cache::{Cached, TtlCache};

/// What the service said about a user: their profile, or `None` when it does not know them.
type Answer = Option<UserProfile>;

/// Display names and images as the auth service says.
///
/// A profile is cached for `profile_cache_ttl_seconds`; after that the service is asked again.
/// When asking fails (after the retries), the answer is, in order: the expired cached profile,
/// the profile learned from the user's last verified token ([`learn`](UserDirectory::learn)),
/// or [`UserProfile::anonymous`]; each such answer is counted in
/// `chat_dependency_degraded_total{dependency="auth_service"}` and logged (rate-limited), and
/// for `outage_pause_ms` afterwards the service is not asked at all, so an outage does not add
/// its timeouts to every message. A user the service does not know gets the learned or anonymous
/// profile. [`profile`](UserDirectory::profile) therefore never fails.
#[derive(Debug)]
pub struct HttpUserDirectory {
    client: AuthClient,
    profiles: TtlCache<UserId, Answer>,
    /// Profiles from verified tokens: the fallback, never the first choice (a token's `name`
    /// claim is whatever the issuer put there when the token was made).
    learned: TtlCache<UserId, UserProfile>,
    /// Until when the service is not asked, after a failure.
    paused_until: Mutex<Option<Instant>>,
    outage_pause: Duration,
    degraded: Degraded,
}

impl HttpUserDirectory {
    /// Builds the HTTP client (no request is made yet).
    ///
    /// # Errors
    /// When the settings are unusable (not an `http://` URL, zero timeout or cache size) or the
    /// client cannot be built.
    pub fn new(settings: &AuthHttpSettings) -> anyhow::Result<Self> {
        Ok(Self {
            client: AuthClient::new(settings)?,
            profiles: TtlCache::new(settings.profile_cache_ttl(), settings.max_cached_profiles),
            // Learned profiles never expire on their own: any token's claims beat an id.
            learned: TtlCache::new(Duration::MAX, settings.max_cached_profiles),
            paused_until: Mutex::new(None),
            outage_pause: settings.outage_pause(),
            degraded: Degraded::default(),
        })
    }

    /// Whether the auth service answers now (for readiness checks).
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.client.ping().await
    }

    /// The profile for a user the service answered about.
    fn answered(&self, user: UserId, answer: Answer) -> UserProfile {
        answer.unwrap_or_else(|| self.learned_or_anonymous(user))
    }

    fn learned_or_anonymous(&self, user: UserId) -> UserProfile {
        match self.learned.get(&user) {
            Some(Cached::Fresh(profile) | Cached::Stale(profile)) => profile,
            None => UserProfile::anonymous(user),
        }
    }

    /// The best profile without the service, counted and logged as degraded.
    fn fallback(&self, user: UserId, stale: Option<Answer>, error: &str) -> UserProfile {
        let (profile, source) = match stale {
            Some(Some(profile)) => (profile, "the expired cache"),
            // The service did not know the user last time; the token may.
            Some(None) | None => match self.learned.get(&user) {
                Some(Cached::Fresh(profile) | Cached::Stale(profile)) => (profile, "the token"),
                None => (UserProfile::anonymous(user), "the user id"),
            },
        };
        self.degraded.record(user, source, error);
        profile
    }

    fn lock_pause(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn paused(&self) -> bool {
        self.lock_pause()
            .is_some_and(|until| Instant::now() < until)
    }

    fn pause(&self) {
        *self.lock_pause() = Instant::now().checked_add(self.outage_pause);
    }
}

#[async_trait::async_trait]
impl UserDirectory for HttpUserDirectory {
    async fn profile(&self, user: UserId) -> Result<UserProfile, UserDirectoryError> {
        let stale = match self.profiles.get(&user) {
            Some(Cached::Fresh(answer)) => return Ok(self.answered(user, answer)),
            Some(Cached::Stale(answer)) => Some(answer),
            None => None,
        };
        if self.paused() {
            return Ok(self.fallback(user, stale, "paused after a failed lookup"));
        }
        match self.client.find_id_list(&[user]).await {
            Ok(mut found) => {
                let answer = found.remove(&user);
                self.profiles.put(user, answer.clone());
                Ok(self.answered(user, answer))
            }
            Err(error) => {
                self.pause();
                Ok(self.fallback(user, stale, &format!("{error:#}")))
            }
        }
    }

    async fn learn(&self, profile: &UserProfile) -> Result<(), UserDirectoryError> {
        self.learned.put(profile.id, profile.clone());
        Ok(())
    }
}

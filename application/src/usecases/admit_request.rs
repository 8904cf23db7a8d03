//! Use case: may this user make one more request of this kind now?

use std::sync::Arc;
use std::time::Duration;

use domain::UserId;

use crate::ports::outbound::{Admission, RateLimiter, RequestKind};

/// The user is over their allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry in {} ms", retry_after.as_millis())]
pub struct RateLimited {
    /// When the next request of this kind will be allowed.
    pub retry_after: Duration,
}

/// How long a client is told to wait when the limiter could not answer.
pub const OUTAGE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Spends one request from the user's allowance. A limiter that cannot answer refuses
/// the request (logged, retry in [`OUTAGE_RETRY_AFTER`]): an outage must not lift every
/// limit at once. The shared limiter avoids that case by falling back to a stricter
/// per-instance one, so this only happens when even that fails.
pub struct AdmitRequest {
    limiter: Arc<dyn RateLimiter>,
}

impl AdmitRequest {
    /// Wires the use case to the limiter.
    pub fn new(limiter: Arc<dyn RateLimiter>) -> Self {
        Self { limiter }
    }

    /// Runs the use case.
    pub async fn execute(&self, user: UserId, kind: RequestKind) -> Result<(), RateLimited> {
        match self.limiter.admit(user, kind).await {
            Ok(Admission::Allowed) => Ok(()),
            Ok(Admission::Limited { retry_after }) => {
                tracing::info!(%user, ?kind, "rate limited");
                Err(RateLimited { retry_after })
            }
            Err(error) => {
                tracing::warn!(%user, ?kind, ?error, "rate limiter unavailable; request refused");
                Err(RateLimited {
                    retry_after: OUTAGE_RETRY_AFTER,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::outbound::LimiterError;
    use crate::usecases::test_support::{ALICE, MocksBuilder};

    #[tokio::test]
    async fn a_user_over_the_allowance_is_told_when_to_retry() {
        let mut m = MocksBuilder::new();
        m.limiter.expect_admit().returning(|_, _| {
            Ok(Admission::Limited {
                retry_after: Duration::from_millis(250),
            })
        });
        let m = m.build();

        let result = AdmitRequest::new(m.limiter)
            .execute(ALICE, RequestKind::Write)
            .await;

        assert_eq!(
            result,
            Err(RateLimited {
                retry_after: Duration::from_millis(250)
            })
        );
    }

    #[tokio::test]
    async fn a_limiter_outage_refuses_the_request_instead_of_letting_it_through() {
        let mut m = MocksBuilder::new();
        m.limiter
            .expect_admit()
            .returning(|_, _| Err(LimiterError::Unavailable(anyhow::anyhow!("down"))));
        let m = m.build();

        let result = AdmitRequest::new(m.limiter)
            .execute(ALICE, RequestKind::Read)
            .await;

        assert_eq!(
            result,
            Err(RateLimited {
                retry_after: OUTAGE_RETRY_AFTER
            })
        );
    }

    #[tokio::test]
    async fn a_user_within_the_allowance_is_admitted() {
        let mut m = MocksBuilder::new();
        m.limiter
            .expect_admit()
            .times(1)
            .returning(|_, _| Ok(Admission::Allowed));
        let m = m.build();

        let result = AdmitRequest::new(m.limiter)
            .execute(ALICE, RequestKind::Write)
            .await;

        assert_eq!(result, Ok(()));
    }
}

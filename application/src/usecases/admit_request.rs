//! Use case: may this user make one more request of this kind now?

use std::sync::Arc;
use std::time::Duration;

use domain::UserId;

use crate::ports::outbound::{Admission, Ports, RateLimiter, RequestKind};

/// The user is over their allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry in {} ms", retry_after.as_millis())]
pub struct RateLimited {
    /// When the next request of this kind will be allowed.
    pub retry_after: Duration,
}

/// Spends one request from the user's allowance. A limiter outage admits the
/// request (and is logged): losing rate limiting for a while is better than
/// losing the chat.
pub struct AdmitRequest<P: Ports> {
    limiter: Arc<P::Limiter>,
}

impl<P: Ports> AdmitRequest<P> {
    /// Wires the use case to the limiter.
    pub fn new(limiter: Arc<P::Limiter>) -> Self {
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
                tracing::warn!(%user, ?error, "rate limiter unavailable; request admitted");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::outbound::LimiterError;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder};

    #[tokio::test]
    async fn a_user_over_the_allowance_is_told_when_to_retry() {
        let mut m = MocksBuilder::new();
        m.limiter.expect_admit().returning(|_, _| {
            Ok(Admission::Limited {
                retry_after: Duration::from_millis(250),
            })
        });
        let m = m.build();

        let result = AdmitRequest::<Mocks>::new(m.limiter)
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
    async fn a_limiter_outage_lets_requests_through() {
        let mut m = MocksBuilder::new();
        m.limiter
            .expect_admit()
            .returning(|_, _| Err(LimiterError::Unavailable(anyhow::anyhow!("down"))));
        let m = m.build();

        let result = AdmitRequest::<Mocks>::new(m.limiter)
            .execute(ALICE, RequestKind::Read)
            .await;

        assert_eq!(result, Ok(()));
    }
}

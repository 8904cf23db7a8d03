//! The rate limiter chosen by configuration: in process (embedded mode) or shared through
//! Redis (`[redis]` present), which falls back to a stricter in-process one while Redis is away.

use adapter_memory::TokenBucketLimiter;
use adapter_redis::{RedisConnection, RedisRateLimiter, RedisSettings};
use application::ports::outbound::{
    Admission, LimiterError, Rate, RateLimiter, Rates, RequestKind,
};
use domain::UserId;

use crate::settings::LimitsSettings;

/// One of the two limiters; delegates every call to it.
#[derive(Debug)]
pub enum Limiter {
    /// Per instance.
    Memory(TokenBucketLimiter),
    /// Shared by every instance through Redis.
    Redis(RedisRateLimiter<TokenBucketLimiter>),
}

impl Limiter {
    /// The in-process limiter with the configured allowances.
    pub fn in_process(limits: &LimitsSettings) -> anyhow::Result<Self> {
        Ok(Self::Memory(TokenBucketLimiter::new(rates(limits)?)))
    }

    /// The limiter shared through Redis, with its stricter per-instance fallback.
    pub fn shared(
        limits: &LimitsSettings,
        connection: RedisConnection,
        settings: &RedisSettings,
    ) -> anyhow::Result<Self> {
        let rates = rates(limits)?;
        let fallback = TokenBucketLimiter::new(rates.scaled(limits.outage_factor));
        Ok(Self::Redis(RedisRateLimiter::new(
            connection, settings, rates, fallback,
        )))
    }
}

/// The `[limits]` allowances, refused when they could only misbehave.
fn rates(limits: &LimitsSettings) -> anyhow::Result<Rates> {
    for (name, value) in [
        ("limits.write_per_second", limits.write_per_second),
        ("limits.write_burst", limits.write_burst),
        ("limits.read_per_second", limits.read_per_second),
        ("limits.read_burst", limits.read_burst),
        ("limits.subscribe_per_second", limits.subscribe_per_second),
        ("limits.subscribe_burst", limits.subscribe_burst),
    ] {
        anyhow::ensure!(
            value.is_finite() && value >= 0.0,
            "{name} must be a number >= 0, got {value}"
        );
    }
    anyhow::ensure!(
        limits.outage_factor > 0.0 && limits.outage_factor <= 1.0,
        "limits.outage_factor must be above 0 and at most 1, got {}",
        limits.outage_factor
    );
    Ok(Rates {
        write: Rate {
            per_second: limits.write_per_second,
            burst: limits.write_burst,
        },
        read: Rate {
            per_second: limits.read_per_second,
            burst: limits.read_burst,
        },
        subscribe: Rate {
            per_second: limits.subscribe_per_second,
            burst: limits.subscribe_burst,
        },
    })
}

impl RateLimiter for Limiter {
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError> {
        match self {
            Self::Memory(limiter) => limiter.admit(user, kind).await,
            Self::Redis(limiter) => limiter.admit(user, kind).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LimitsSettings {
        LimitsSettings {
            write_per_second: 10.0,
            write_burst: 30.0,
            read_per_second: 20.0,
            read_burst: 60.0,
            subscribe_per_second: 5.0,
            subscribe_burst: 300.0,
            outage_factor: 0.5,
        }
    }

    #[test]
    fn unusable_allowances_are_refused_naming_the_setting() {
        for (limits, setting) in [
            (
                LimitsSettings {
                    read_burst: f64::NAN,
                    ..limits()
                },
                "limits.read_burst",
            ),
            (
                LimitsSettings {
                    write_per_second: -1.0,
                    ..limits()
                },
                "limits.write_per_second",
            ),
            (
                LimitsSettings {
                    outage_factor: 0.0,
                    ..limits()
                },
                "limits.outage_factor",
            ),
            (
                LimitsSettings {
                    outage_factor: 1.5,
                    ..limits()
                },
                "limits.outage_factor",
            ),
        ] {
            let error = Limiter::in_process(&limits).expect_err("refused");
            assert!(error.to_string().contains(setting), "{error}");
        }
        assert!(Limiter::in_process(&limits()).is_ok());
    }
}

//! [`RedisRateLimiter`]: the per-user and per-room allowances shared by every instance, one
//! atomic Lua script per request, with a stricter per-instance limiter answering while Redis
//! is away.

use std::time::Duration;

use application::ports::outbound::{
    Admission, LimiterError, Rate, RateLimiter, Rates, RequestKind,
};
use domain::{RoomKey, UserId};
use fred::prelude::Value;

use crate::connection::RedisConnection;
use crate::outage_log::OutageLog;
use crate::script::LuaScript;
use crate::settings::RedisSettings;

static ADMIT: LuaScript = LuaScript::new("rate limit", include_str!("lua/admit.lua"));

/// The emission interval of a rate that never refills: ten years, far beyond any wait that
/// matters, and small enough for Lua's doubles to stay exact in microseconds.
const NEVER_US: f64 = 10.0 * 365.0 * 24.0 * 3600.0 * 1e6;

/// One allowance per user and request kind, and one per room for its message changes, kept
/// in Redis so that a user (or a room's posters) spreading requests over several instances
/// still has one allowance.
///
/// Each `admit` or `admit_room` is one script run (GCRA: one key per user and kind,
/// `{key_prefix}limit:{kind}:{userId}`, or per room, `{key_prefix}limit:room:direct:{roomId}`
/// and `{key_prefix}limit:room:channel:{channelId}`, holding when the next request is due, in
/// Redis's own clock, expiring once the allowance is whole again). The script is atomic, so
/// concurrent requests on different instances never both spend the last request. Without a
/// room allowance (`Rates::room_write` is `None`) `admit_room` allows at once, with no call.
///
/// While Redis cannot answer (down, or slower than the command timeout), `fallback` answers
/// instead: a per-instance limiter that bootstrap builds with stricter rates. An outage thus
/// never lifts the limits; the warning is logged once per outage, not once per request.
#[derive(Debug)]
pub struct RedisRateLimiter<F> {
    connection: RedisConnection,
    key_prefix: String,
    rates: Rates,
    fallback: F,
    outages: OutageLog,
}

impl<F: RateLimiter> RedisRateLimiter<F> {
    /// Shares `rates` through Redis, with `fallback` answering while Redis is away. Makes no
    /// call.
    pub fn new(
        connection: RedisConnection,
        settings: &RedisSettings,
        rates: Rates,
        fallback: F,
    ) -> Self {
        Self {
            connection,
            key_prefix: settings.key_prefix.clone(),
            rates,
            fallback,
            outages: OutageLog::with_fallback(
                "Redis rate limiter",
                "each instance limits on its own, with the stricter outage allowances",
            ),
        }
    }

    /// The limiter answering while Redis is away.
    pub fn fallback(&self) -> &F {
        &self.fallback
    }

    fn user_key(&self, user: UserId, kind: RequestKind) -> String {
        format!("{}limit:{}:{user}", self.key_prefix, kind.name())
    }

    fn room_key(&self, room: RoomKey) -> String {
        match room {
            RoomKey::Direct(room) => format!("{}limit:room:direct:{room}", self.key_prefix),
            RoomKey::Channel(channel) => {
                format!("{}limit:room:channel:{channel}", self.key_prefix)
            }
        }
    }

    /// Takes one request from the allowance `rate` kept under `key`.
    async fn shared(&self, key: String, rate: Rate) -> anyhow::Result<Admission> {
        let (interval, tolerance) = gcra(rate);
        let reply = ADMIT
            .run_fail_fast(
                &self.connection,
                vec![key],
                vec![format!("{interval:.0}"), format!("{tolerance:.0}")],
            )
            .await?;
        decode(&reply)
            .ok_or_else(|| anyhow::anyhow!("unexpected Redis reply to rate limit: {reply:?}"))
    }
}

/// The emission interval and burst tolerance of `rate`, in microseconds.
fn gcra(rate: Rate) -> (f64, f64) {
    let interval = if rate.per_second > 0.0 {
        (1e6 / rate.per_second).min(NEVER_US)
    } else {
        NEVER_US
    };
    (interval, (rate.burst - 1.0) * interval)
}

/// `{1, 0}` or `{0, µs to wait}` from the script.
fn decode(reply: &Value) -> Option<Admission> {
    let Value::Array(fields) = reply else {
        return None;
    };
    let [allowed, wait] = fields.as_slice() else {
        return None;
    };
    match (allowed.as_i64()?, wait.as_i64()?) {
        (1, _) => Some(Admission::Allowed),
        (0, wait) => Some(Admission::Limited {
            retry_after: Duration::from_micros(u64::try_from(wait).unwrap_or(0)),
        }),
        _ => None,
    }
}

#[async_trait::async_trait]
impl<F: RateLimiter> RateLimiter for RedisRateLimiter<F> {
    #[tracing::instrument(name = "redis.rate_limit", skip_all, fields(user = %user, kind = kind.name()))]
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<Admission, LimiterError> {
        match self
            .shared(self.user_key(user, kind), self.rates.of(kind))
            .await
        {
            Ok(admission) => Ok(admission),
            Err(error) => {
                self.outages.failed("admitting a request", &error);
                self.fallback.admit(user, kind).await
            }
        }
    }

    #[tracing::instrument(name = "redis.rate_limit_room", skip_all, fields(room = %room))]
    async fn admit_room(&self, room: RoomKey) -> Result<Admission, LimiterError> {
        let Some(rate) = self.rates.room_write else {
            return Ok(Admission::Allowed);
        };
        match self.shared(self.room_key(room), rate).await {
            Ok(admission) => Ok(admission),
            Err(error) => {
                self.outages.failed("admitting a room write", &error);
                self.fallback.admit_room(room).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_becomes_an_interval_and_a_burst_tolerance_in_microseconds() {
        assert_eq!(
            gcra(Rate {
                per_second: 4.0,
                burst: 3.0
            }),
            (250_000.0, 500_000.0)
        );
        let (never, _) = gcra(Rate {
            per_second: 0.0,
            burst: 1.0,
        });
        assert!((never - NEVER_US).abs() < 1.0);
    }

    #[test]
    fn script_replies_are_decoded_and_anything_else_refused() {
        assert_eq!(
            decode(&Value::Array(vec![Value::Integer(1), Value::Integer(0)])),
            Some(Admission::Allowed)
        );
        assert_eq!(
            decode(&Value::Array(vec![
                Value::Integer(0),
                Value::Integer(1_500)
            ])),
            Some(Admission::Limited {
                retry_after: Duration::from_micros(1_500)
            })
        );
        for reply in [
            Value::Integer(1),
            Value::Array(vec![Value::Integer(2), Value::Integer(0)]),
            Value::Array(vec![Value::Integer(1)]),
        ] {
            assert_eq!(decode(&reply), None, "{reply:?}");
        }
    }
}

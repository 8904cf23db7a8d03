//! The per-user and per-room allowances of `[limits]`, checked once at start-up.

use application::ports::outbound::{Rate, Rates};

use crate::settings::LimitsSettings;

/// The allowances `[limits]` sets.
///
/// # Errors
/// Names the setting that is not a usable number.
pub fn rates(limits: &LimitsSettings) -> anyhow::Result<Rates> {
    for (name, value) in [
        ("limits.write_per_second", limits.write_per_second),
        ("limits.write_burst", limits.write_burst),
        ("limits.read_per_second", limits.read_per_second),
        ("limits.read_burst", limits.read_burst),
        ("limits.subscribe_per_second", limits.subscribe_per_second),
        ("limits.subscribe_burst", limits.subscribe_burst),
        ("limits.room_write_per_second", limits.room_write_per_second),
        ("limits.room_write_burst", limits.room_write_burst),
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
    // A room's allowance is what its subscribers may be sent, not a quota to use up: 0 turns
    // it off rather than silencing every room.
    let room_write = (limits.room_write_per_second > 0.0).then_some(Rate {
        per_second: limits.room_write_per_second,
        burst: limits.room_write_burst,
    });
    anyhow::ensure!(
        room_write.is_none_or(|rate| rate.burst >= 1.0),
        "limits.room_write_burst must be at least 1 while limits.room_write_per_second is above 0, got {}",
        limits.room_write_burst
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
        room_write,
    })
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
            room_write_per_second: 50.0,
            room_write_burst: 100.0,
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
                    room_write_per_second: f64::INFINITY,
                    ..limits()
                },
                "limits.room_write_per_second",
            ),
            (
                LimitsSettings {
                    room_write_burst: 0.5,
                    ..limits()
                },
                "limits.room_write_burst",
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
            let error = rates(&limits).expect_err("refused");
            assert!(error.to_string().contains(setting), "{error}");
        }
        assert!(rates(&limits()).is_ok());
    }

    #[test]
    fn a_room_allowance_of_zero_per_second_means_rooms_are_not_limited() {
        let off = LimitsSettings {
            room_write_per_second: 0.0,
            room_write_burst: 0.0,
            ..limits()
        };

        assert_eq!(rates(&off).expect("usable").room_write, None);
        assert_eq!(
            rates(&limits()).expect("usable").room_write,
            Some(Rate {
                per_second: 50.0,
                burst: 100.0
            })
        );
    }
}

//! Timestamps as the API writes them.

use domain::Timestamp;
use time::OffsetDateTime;
use time::macros::format_description;

fn datetime(at: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.unix_micros()) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 in UTC with milliseconds: `2026-11-25T14:08:59.994Z` (the clean API).
pub(crate) fn rfc3339(at: Timestamp) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    datetime(at).format(&format).unwrap_or_default()
}

/// The seed's history format: UTC without offset, milliseconds: `2026-11-25T14:08:59.994`.
pub(crate) fn seed(at: Timestamp) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");
    datetime(at).format(&format).unwrap_or_default()
}

/// The seed's `message-count` sort key, `yyyyMMddHHmmssSSS`, with a 24-hour clock
/// (the seed used `hh` and ordered rooms wrongly across noon).
pub(crate) fn seed_compact(at: Timestamp) -> String {
    let format =
        format_description!("[year][month][day][hour repr:24][minute][second][subsecond digits:3]");
    datetime(at).format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Timestamp = Timestamp::from_unix_micros(1_645_451_289_123_456); // 2022-02-21T13:48:09.123456Z

    #[test]
    fn the_clean_api_writes_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339(AT), "2022-02-21T13:48:09.123Z");
    }

    #[test]
    fn the_seed_formats_have_no_offset_and_a_24_hour_clock() {
        assert_eq!(seed(AT), "2022-02-21T13:48:09.123");
        assert_eq!(seed_compact(AT), "20220221134809123");
    }
}

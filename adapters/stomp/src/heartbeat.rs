//! Heart-beat negotiation (STOMP 1.1+ `heart-beat: cx,cy`).

use std::time::Duration;

/// The agreed heart-beat periods of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct HeartBeats {
    /// How often we must send something (None: never).
    pub(crate) send_every: Option<Duration>,
    /// How often the client promised to send something (None: no expectation).
    pub(crate) expect_every: Option<Duration>,
}

fn period(ours: u64, theirs: u64) -> Option<Duration> {
    (ours > 0 && theirs > 0).then(|| Duration::from_millis(ours.max(theirs)))
}

/// Negotiates from the client's `heart-beat` header and our offer (`send_ms`,
/// `receive_ms`). A missing or malformed header means the client does none.
pub(crate) fn negotiate(header: Option<&str>, send_ms: u64, receive_ms: u64) -> HeartBeats {
    let (client_send, client_receive) = header
        .and_then(|h| h.split_once(','))
        .and_then(|(cx, cy)| {
            Some((
                cx.trim().parse::<u64>().ok()?,
                cy.trim().parse::<u64>().ok()?,
            ))
        })
        .unwrap_or((0, 0));
    HeartBeats {
        send_every: period(send_ms, client_receive),
        expect_every: period(receive_ms, client_send),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_uses_the_larger_of_the_two_periods() {
        let agreed = negotiate(Some("4000,20000"), 10_000, 10_000);
        assert_eq!(agreed.send_every, Some(Duration::from_secs(20)));
        assert_eq!(agreed.expect_every, Some(Duration::from_secs(10)));
    }

    #[test]
    fn zero_on_either_side_switches_that_direction_off() {
        assert_eq!(
            negotiate(Some("0,0"), 10_000, 10_000),
            HeartBeats::default()
        );
        let only_ours = negotiate(Some("0,5000"), 10_000, 0);
        assert_eq!(only_ours.send_every, Some(Duration::from_secs(10)));
        assert_eq!(only_ours.expect_every, None);
    }

    #[test]
    fn a_missing_or_malformed_header_means_no_heart_beats() {
        assert_eq!(negotiate(None, 10_000, 10_000), HeartBeats::default());
        assert_eq!(
            negotiate(Some("soon"), 10_000, 10_000),
            HeartBeats::default()
        );
    }
}

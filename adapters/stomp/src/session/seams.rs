//! The seam between a resumed subscription's replay and its live events.
//!
//! A SUBSCRIBE with `x-since-seq` is registered in the hub before the store is read,
//! so no live event falls between the two. Until its replay is sent, live events of
//! that subscription are held (bounded); once it is sent they are released,
//! dropping those the replay already covered (seq at or below the last replayed),
//! and from then on any room event whose seq is not above the last delivered one is
//! dropped: the client gets each event once, in increasing seq.
//!
//! The session reads no deliveries while the replay of a SUBSCRIBE is read and
//! written, so live events usually wait in its mailbox; the hold here keeps the
//! seam right whichever way the session drains them.

use std::collections::{HashMap, VecDeque};

use domain::Seq;

use crate::hub::Delivery;

/// Where a resumed subscription stands.
#[derive(Debug)]
enum Seam {
    /// Its replay is under way: live events wait.
    Replaying(VecDeque<Delivery>),
    /// Replayed: live room events are delivered above `last`.
    Live { last: Seq },
}

/// What to do with a delivery.
#[derive(Debug)]
pub(super) enum Offer {
    /// Write it.
    Deliver(Delivery),
    /// Held, or dropped as already delivered.
    Absorbed,
    /// The hold is full: the client cannot be caught up without an unbounded buffer.
    Overflow,
}

/// The seams of a session's resumed subscriptions, by subscription id.
#[derive(Debug)]
pub(super) struct Seams {
    seams: HashMap<String, Seam>,
    hold_limit: usize,
}

impl Seams {
    /// Holds at most `hold_limit` live events per replaying subscription.
    pub(super) fn new(hold_limit: usize) -> Self {
        Self {
            seams: HashMap::new(),
            hold_limit: hold_limit.max(1),
        }
    }

    /// A replay of `subscription` starts: its live events are held from now on.
    pub(super) fn replaying(&mut self, subscription: &str) {
        self.seams
            .insert(subscription.to_owned(), Seam::Replaying(VecDeque::new()));
    }

    /// The replay of `subscription` was sent up to `through`: the held live events
    /// above it, in order, to write now.
    pub(super) fn caught_up(&mut self, subscription: &str, through: Seq) -> Vec<Delivery> {
        let held = match self
            .seams
            .insert(subscription.to_owned(), Seam::Live { last: through })
        {
            Some(Seam::Replaying(held)) => held,
            _ => VecDeque::new(),
        };
        held.into_iter()
            .filter_map(|delivery| match self.offer(delivery) {
                Offer::Deliver(delivery) => Some(delivery),
                Offer::Absorbed | Offer::Overflow => None,
            })
            .collect()
    }

    /// Forgets `subscription` (unsubscribed, refused or revoked).
    pub(super) fn forget(&mut self, subscription: &str) {
        self.seams.remove(subscription);
    }

    /// Decides on a live delivery; deliveries of subscriptions without a seam, and
    /// events without a seq, pass as they are.
    pub(super) fn offer(&mut self, delivery: Delivery) -> Offer {
        let Some(seam) = self.seams.get_mut(&*delivery.subscription) else {
            return Offer::Deliver(delivery);
        };
        match seam {
            Seam::Replaying(held) if held.len() >= self.hold_limit => Offer::Overflow,
            Seam::Replaying(held) => {
                held.push_back(delivery);
                Offer::Absorbed
            }
            Seam::Live { last } => match delivery.seq {
                Some(seq) if seq <= *last => Offer::Absorbed,
                Some(seq) => {
                    *last = seq;
                    Offer::Deliver(delivery)
                }
                None => Offer::Deliver(delivery),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;

    fn delivery(subscription: &str, seq: Option<u64>) -> Delivery {
        Delivery {
            destination: Arc::from("/topic/direct/5"),
            subscription: Arc::from(subscription),
            body: Bytes::new(),
            seq: seq.map(Seq::new),
        }
    }

    fn seqs(deliveries: &[Delivery]) -> Vec<Option<u64>> {
        deliveries.iter().map(|d| d.seq.map(Seq::get)).collect()
    }

    #[test]
    fn live_events_during_a_replay_are_held_and_released_above_the_last_replayed() {
        let mut seams = Seams::new(8);
        seams.replaying("r");
        for seq in [Some(4), Some(5), None, Some(6)] {
            assert!(matches!(seams.offer(delivery("r", seq)), Offer::Absorbed));
        }

        let released = seams.caught_up("r", Seq::new(5));

        assert_eq!(seqs(&released), [None, Some(6)]);
    }

    #[test]
    fn after_the_seam_a_room_event_not_above_the_last_delivered_is_dropped() {
        let mut seams = Seams::new(8);
        seams.replaying("r");
        assert!(seams.caught_up("r", Seq::new(5)).is_empty());

        let offered: Vec<bool> = [5, 6, 6, 3, 7]
            .into_iter()
            .map(|seq| matches!(seams.offer(delivery("r", Some(seq))), Offer::Deliver(_)))
            .collect();

        assert_eq!(offered, [false, true, false, false, true]);
        assert!(matches!(
            seams.offer(delivery("r", None)),
            Offer::Deliver(_)
        ));
    }

    #[test]
    fn other_subscriptions_and_forgotten_ones_are_not_filtered() {
        let mut seams = Seams::new(8);
        seams.replaying("r");
        assert!(matches!(
            seams.offer(delivery("other", Some(1))),
            Offer::Deliver(_)
        ));

        seams.forget("r");

        assert!(matches!(
            seams.offer(delivery("r", Some(1))),
            Offer::Deliver(_)
        ));
    }

    #[test]
    fn a_full_hold_overflows_instead_of_growing() {
        let mut seams = Seams::new(2);
        seams.replaying("r");
        seams.offer(delivery("r", Some(1)));
        seams.offer(delivery("r", Some(2)));

        assert!(matches!(
            seams.offer(delivery("r", Some(3))),
            Offer::Overflow
        ));
    }
}

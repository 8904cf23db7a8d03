//! Per-room sequence numbers of stored room events.

use std::fmt;

/// Position of a stored event in its room: assigned once by the message store,
/// strictly increasing per room, starting at 1. Clients use it to order events
/// and to ask for what they missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seq(u64);

impl Seq {
    /// The first event of a room.
    pub const FIRST: Self = Self(1);

    /// Wraps a raw sequence number.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The number after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_start_at_one_and_increase() {
        assert_eq!(Seq::FIRST.get(), 1);
        assert!(Seq::FIRST.next() > Seq::FIRST);
    }
}

//! Event delivery's room order (bootstrap's delivery monitor): how often a room had to skip a
//! missing seq, drop a late event, or fill a gap from the store, and what waits now.

/// Counter: missing room seqs skipped after the hold (a writer died before storing).
pub const SKIPPED: &str = "chat_delivery_skipped_total";

/// Counter: room events not delivered because their room had moved past them (a writer slower
/// than the hold, or a repeated publish).
pub const LATE: &str = "chat_delivery_late_total";

/// Counter: room events delivered from the store in place of missing ones (a writer that
/// stored and was slow to publish, gave up, or died).
pub const FILLED: &str = "chat_delivery_filled_total";

/// Gauge: room events waiting for a missing seq, over every room.
pub const HELD: &str = "chat_delivery_held";

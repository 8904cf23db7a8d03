//! What the connections' outbound queues hold, against their bounds: each queue in frames
//! and in bytes, all of them together in bytes (the instance's budget).
//!
//! The hub is the producer of every queue and the connection's session its consumer; both
//! count here, with atomics only, so the delivery path takes no lock. A queue past half of
//! either bound is *behind* until it drains to a quarter: the hub slows the SENDs to rooms
//! whose subscribers are mostly behind (see `hub`), and wakes them here when one catches up.
//!
//! Bytes are each frame's whole size even though subscribers share one serialised body: the
//! bound is then what the queues could cost if the bodies were not shared, never less.

#![allow(
    clippy::cast_precision_loss,
    reason = "gauges are f64; byte counts far below 2^52 are exact"
)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use metric_names::stomp as metric;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::hub::Delivery;

/// Bytes a MESSAGE frame adds to its body: the command, headers and their separators.
const FRAME_OVERHEAD: usize = 160;

/// The bounds of the outbound queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundLimits {
    /// Frames one connection's queue holds.
    pub frames: usize,
    /// Bytes one connection's queue holds (a single frame larger than this still fits an
    /// empty queue, so no event is too large to deliver).
    pub bytes: usize,
    /// Bytes all the queues of this instance hold together.
    pub budget_bytes: usize,
    /// How long a queue may keep overflowing (deliveries dropped) without draining to its
    /// low-water mark before its connection is closed as a slow consumer.
    pub slow_consumer: Duration,
}

impl Default for OutboundLimits {
    fn default() -> Self {
        Self {
            frames: 1024,
            bytes: 1024 * 1024,
            budget_bytes: 256 * 1024 * 1024,
            slow_consumer: Duration::from_secs(10),
        }
    }
}

/// The bytes a delivery occupies in a queue.
pub(crate) fn cost(delivery: &Delivery) -> usize {
    delivery.body.len() + delivery.destination.len() + delivery.subscription.len() + FRAME_OVERHEAD
}

/// What every queue of this instance holds together, and the signal that one caught up.
#[derive(Debug)]
pub(crate) struct OutboundBudget {
    pub(crate) limits: OutboundLimits,
    bytes: AtomicUsize,
    frames: AtomicUsize,
    behind: AtomicUsize,
    /// Notified (every waiter) when a queue stops being behind or the budget drains.
    caught_up: Notify,
    epoch: Instant,
}

impl OutboundBudget {
    pub(crate) fn new(limits: OutboundLimits) -> Self {
        metrics::gauge!(metric::OUTBOUND_BUDGET_BYTES).set(limits.budget_bytes as f64);
        Self {
            limits,
            bytes: AtomicUsize::new(0),
            frames: AtomicUsize::new(0),
            behind: AtomicUsize::new(0),
            caught_up: Notify::new(),
            epoch: Instant::now(),
        }
    }

    /// Whether the queues together hold more than half the budget: every room waits then.
    pub(crate) fn is_strained(&self) -> bool {
        self.bytes.load(Ordering::Relaxed) > self.limits.budget_bytes / 2
    }

    /// Bytes queued on every connection, for tests.
    #[cfg(test)]
    pub(crate) fn queued_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Resolves at the next catch-up; enable it before checking, so none is missed.
    pub(crate) fn caught_up(&self) -> tokio::sync::futures::Notified<'_> {
        self.caught_up.notified()
    }

    /// Takes `cost` bytes from the budget, unless that would exceed it.
    fn take(&self, cost: usize) -> bool {
        let limit = self.limits.budget_bytes;
        self.bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                (queued + cost <= limit).then_some(queued + cost)
            })
            .is_ok()
    }

    fn give_back(&self, cost: usize) {
        let before = self.bytes.fetch_sub(cost, Ordering::AcqRel);
        let half = self.limits.budget_bytes / 2;
        if before > half && before - cost <= half {
            self.caught_up.notify_waiters();
        }
    }

    /// Milliseconds since the budget was made, plus one: 0 stays free to mean "never".
    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }
}

/// What one connection's queue holds, shared by the hub and the session.
#[derive(Debug, Default)]
pub(crate) struct QueueLoad {
    frames: AtomicUsize,
    bytes: AtomicUsize,
    behind: AtomicBool,
    /// When deliveries to it started being dropped, in the budget's milliseconds (0: none).
    overflowing_since: AtomicU64,
}

/// Why a delivery was not queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The connection's own queue is full.
    QueueFull,
    /// Every queue together holds the whole budget.
    BudgetFull,
    /// The connection is gone.
    Closed,
}

impl QueueLoad {
    /// Whether this queue is past its high-water mark (and not yet back to its low one).
    pub(crate) fn is_behind(&self) -> bool {
        self.behind.load(Ordering::Relaxed)
    }

    /// Counts `cost` more bytes into this queue if both bounds allow, then runs `push`
    /// (the channel's `try_send`); undone if `push` fails.
    pub(crate) fn admit<E>(
        &self,
        budget: &OutboundBudget,
        cost: usize,
        push: impl FnOnce() -> Result<(), (Refused, E)>,
    ) -> Result<(), (Refused, Option<E>)> {
        let limits = &budget.limits;
        let frames = self.frames.fetch_add(1, Ordering::AcqRel);
        let bytes = self.bytes.fetch_add(cost, Ordering::AcqRel);
        let refused = if frames >= limits.frames || (frames > 0 && bytes + cost > limits.bytes) {
            Some(Refused::QueueFull)
        } else if !budget.take(cost) {
            Some(Refused::BudgetFull)
        } else {
            None
        };
        if let Some(refused) = refused {
            self.undo(cost);
            return Err((refused, None));
        }
        if let Err((refused, value)) = push() {
            self.undo(cost);
            budget.give_back(cost);
            return Err((refused, Some(value)));
        }
        budget.frames.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!(metric::OUTBOUND_QUEUED_FRAMES).increment(1.0);
        metrics::gauge!(metric::OUTBOUND_QUEUED_BYTES).increment(cost as f64);
        if (frames + 1 > limits.frames / 2 || bytes + cost > limits.bytes / 2)
            && !self.behind.swap(true, Ordering::AcqRel)
        {
            budget.behind.fetch_add(1, Ordering::Relaxed);
            metrics::gauge!(metric::CONNECTIONS_BEHIND).increment(1.0);
        }
        Ok(())
    }

    fn undo(&self, cost: usize) {
        self.frames.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(cost, Ordering::AcqRel);
    }

    /// The session took a delivery of `cost` bytes off the queue.
    pub(crate) fn taken(&self, budget: &OutboundBudget, cost: usize) {
        let frames = self.frames.fetch_sub(1, Ordering::AcqRel) - 1;
        let bytes = self.bytes.fetch_sub(cost, Ordering::AcqRel) - cost;
        budget.frames.fetch_sub(1, Ordering::Relaxed);
        budget.give_back(cost);
        metrics::gauge!(metric::OUTBOUND_QUEUED_FRAMES).decrement(1.0);
        metrics::gauge!(metric::OUTBOUND_QUEUED_BYTES).decrement(cost as f64);
        let limits = &budget.limits;
        if frames <= limits.frames / 4 && bytes <= limits.bytes / 4 {
            self.overflowing_since.store(0, Ordering::Relaxed);
            if self.behind.swap(false, Ordering::AcqRel) {
                budget.behind.fetch_sub(1, Ordering::Relaxed);
                metrics::gauge!(metric::CONNECTIONS_BEHIND).decrement(1.0);
                budget.caught_up.notify_waiters();
            }
        }
    }

    /// A delivery to this full queue was dropped: whether the queue has now overflowed for
    /// longer than a slow consumer may (it did not drain to its low-water mark meanwhile).
    pub(crate) fn overflowed(&self, budget: &OutboundBudget) -> bool {
        let now = budget.millis();
        match self
            .overflowing_since
            .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => false,
            Err(since) => {
                Duration::from_millis(now.saturating_sub(since)) >= budget.limits.slow_consumer
            }
        }
    }

    /// The connection closed: whatever it still counted leaves the budget's tallies.
    pub(crate) fn closed(&self, budget: &OutboundBudget) {
        if self.behind.swap(false, Ordering::AcqRel) {
            budget.behind.fetch_sub(1, Ordering::Relaxed);
            metrics::gauge!(metric::CONNECTIONS_BEHIND).decrement(1.0);
            budget.caught_up.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(frames: usize, bytes: usize, budget_bytes: usize) -> OutboundBudget {
        OutboundBudget::new(OutboundLimits {
            frames,
            bytes,
            budget_bytes,
            slow_consumer: Duration::from_secs(10),
        })
    }

    fn push(load: &QueueLoad, budget: &OutboundBudget, cost: usize) -> Result<(), Refused> {
        load.admit::<()>(budget, cost, || Ok(()))
            .map_err(|(refused, _)| refused)
    }

    #[test]
    fn a_queue_takes_frames_up_to_its_bound_in_frames() {
        let budget = budget(4, 1 << 20, 1 << 30);
        let load = QueueLoad::default();

        for _ in 0..4 {
            assert_eq!(push(&load, &budget, 10), Ok(()));
        }
        assert_eq!(push(&load, &budget, 10), Err(Refused::QueueFull));
    }

    #[test]
    fn a_queue_takes_bytes_up_to_its_bound_in_bytes_but_always_one_frame() {
        let budget = budget(100, 1000, 1 << 30);
        let load = QueueLoad::default();

        assert_eq!(
            push(&load, &budget, 5000),
            Ok(()),
            "an empty queue takes any frame"
        );
        assert_eq!(push(&load, &budget, 10), Err(Refused::QueueFull));
        load.taken(&budget, 5000);
        assert_eq!(push(&load, &budget, 600), Ok(()));
        assert_eq!(push(&load, &budget, 600), Err(Refused::QueueFull));
    }

    #[test]
    fn the_budget_bounds_every_queue_together_and_frees_what_is_taken() {
        let budget = budget(100, 1 << 20, 1000);
        let first = QueueLoad::default();
        let second = QueueLoad::default();

        assert_eq!(push(&first, &budget, 600), Ok(()));
        assert_eq!(push(&second, &budget, 600), Err(Refused::BudgetFull));
        assert!(budget.is_strained());
        first.taken(&budget, 600);
        assert_eq!(push(&second, &budget, 600), Ok(()));
        assert_eq!(budget.queued_bytes(), 600);
    }

    #[test]
    fn a_queue_is_behind_past_half_until_it_drains_to_a_quarter() {
        let budget = budget(8, 1 << 20, 1 << 30);
        let load = QueueLoad::default();

        for _ in 0..4 {
            push(&load, &budget, 10).expect("room");
        }
        assert!(!load.is_behind(), "half full is not behind yet");
        push(&load, &budget, 10).expect("room");
        assert!(load.is_behind());
        for _ in 0..2 {
            load.taken(&budget, 10);
        }
        assert!(load.is_behind(), "three left: still above a quarter");
        load.taken(&budget, 10);
        assert!(!load.is_behind());
    }

    #[test]
    fn a_refused_push_counts_nothing() {
        let budget = budget(8, 1 << 20, 1 << 30);
        let load = QueueLoad::default();

        let refused = load.admit(&budget, 10, || Err((Refused::Closed, "gone")));

        assert_eq!(refused, Err((Refused::Closed, Some("gone"))));
        assert_eq!(budget.queued_bytes(), 0);
        assert_eq!(push(&load, &budget, 10), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_is_a_slow_consumer_once_it_overflows_longer_than_allowed() {
        let budget = budget(1, 1 << 20, 1 << 30);
        let load = QueueLoad::default();
        push(&load, &budget, 10).expect("room");

        assert!(!load.overflowed(&budget), "the first drop starts the clock");
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(!load.overflowed(&budget));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(load.overflowed(&budget));
    }

    #[tokio::test(start_paused = true)]
    async fn draining_to_low_water_forgives_an_overflow() {
        let budget = budget(1, 1 << 20, 1 << 30);
        let load = QueueLoad::default();
        push(&load, &budget, 10).expect("room");
        assert!(!load.overflowed(&budget));
        tokio::time::advance(Duration::from_secs(9)).await;

        load.taken(&budget, 10);
        push(&load, &budget, 10).expect("room");
        tokio::time::advance(Duration::from_secs(2)).await;

        assert!(!load.overflowed(&budget), "the clock started again");
    }
}

use domain::Released;

/// What one step of the room order did, for dashboards and alerts: a skipped seq means a
/// writer died before storing its message; late events mean writers slower than the hold
/// (or repeats); events filled from the store mean writers that stored and did not publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderReport {
    /// Missing seqs given up on.
    pub skipped: u64,
    /// Events dropped because their room had moved past them.
    pub late: u64,
    /// Events delivered from the store in place of missing ones.
    pub filled: u64,
    /// Events waiting for a missing seq now, over every room.
    pub held: usize,
}

impl OrderReport {
    /// The report of `released`, with `filled` events from the store and `held` waiting.
    pub fn of<E>(released: &Released<E>, filled: u64, held: usize) -> Self {
        Self {
            skipped: released.skipped,
            late: released.late,
            filled,
            held,
        }
    }
}

/// Where event delivery reports how its room order is doing.
///
/// Implemented by bootstrap's metrics (`MetricsDeliveryMonitor`); mocked as
/// `MockDeliveryMonitor`. Synchronous: a report only updates counters.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait DeliveryMonitor: Send + Sync + 'static {
    /// Records one step's report.
    fn report(&self, report: OrderReport);
}

use domain::Timestamp;

/// The wall clock, in UTC.
///
/// Implemented by `adapters/memory` (`SystemClock`); mocked as `MockClock`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

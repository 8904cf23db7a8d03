//! The background tasks bootstrap supervises (event delivery, lease renewal, metrics upkeep).

use metrics::Counter;

/// Counter by [`TASK`]: supervised tasks that stopped before shutdown (the instance then
/// turns not ready and exits non-zero).
pub const STOPPED: &str = "chat_task_stopped_total";

/// Label key: the task's fixed name (`event_delivery`, `lease_renewal`, `metrics_upkeep`).
pub const TASK: &str = "task";

/// The [`STOPPED`] counter of `task`.
pub fn task_stopped(task: &'static str) -> Counter {
    metrics::counter!(STOPPED, TASK => task)
}

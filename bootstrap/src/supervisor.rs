//! Owns the server's long-running background tasks (event delivery, lease renewal, metrics
//! upkeep): each runs under a name until shutdown cancels it. None may end before that. A task
//! that returns or panics is logged as an error naming it, counted in
//! `chat_task_stopped_total{task}` (`metric_names::tasks`), reported by `/readyz` (entry `tasks`, not
//! ready) through [`TaskHealth`], and ends the server: [`Supervisor::task_stopped`] resolves,
//! and [`App::run_until`](crate::App::run_until) shuts down and returns an error, so the process
//! exits non-zero.
//!
//! The task is not restarted. A restarted event delivery would subscribe to the bus again and
//! silently skip what was published in between; the orchestrator restarts the whole process,
//! which starts from a known state, and the exit makes the failure impossible to miss.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};

use futures::FutureExt as _;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The background tasks of the server and whether each still runs.
#[derive(Debug, Default)]
pub struct Supervisor {
    tracker: TaskTracker,
    /// Cancelled by [`Supervisor::shutdown`]: tasks ending after it are not failures.
    stopping: CancellationToken,
    health: TaskHealth,
}

/// Which supervised tasks stopped before shutdown; what `/readyz` reads. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth {
    stopped: Arc<Mutex<Vec<&'static str>>>,
    /// Cancelled when the first task stops.
    failed: CancellationToken,
}

impl TaskHealth {
    /// The tasks that stopped before shutdown, in the order they stopped; empty while all run.
    pub fn stopped(&self) -> Vec<&'static str> {
        self.stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, task: &'static str) {
        self.stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
        self.failed.cancel();
    }
}

impl Supervisor {
    /// A supervisor without tasks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` under `name` (a label value of `chat_task_stopped_total`: one of a few fixed names)
    /// until [`shutdown`](Self::shutdown). Must be called within a tokio runtime.
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let stopping = self.stopping.clone();
        let health = self.health.clone();
        self.tracker.spawn(async move {
            let ended = tokio::select! {
                biased;
                () = stopping.cancelled() => return,
                ended = AssertUnwindSafe(task).catch_unwind() => ended,
            };
            if stopping.is_cancelled() {
                return;
            }
            let how = match ended {
                Ok(()) => "returned".to_owned(),
                Err(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
            };
            health.record(name);
            metric_names::task_stopped(name).increment(1);
            tracing::error!(
                task = name,
                how,
                "an essential task stopped; the instance is not ready and shuts down"
            );
        });
    }

    /// A handle on which tasks stopped, for `/readyz`.
    pub fn health(&self) -> TaskHealth {
        self.health.clone()
    }

    /// Resolves with the name of the first task that stopped before shutdown (at once if one
    /// already did); never while every task runs.
    pub async fn task_stopped(&self) -> &'static str {
        self.health.failed.cancelled().await;
        self.health.stopped().first().copied().unwrap_or("unknown")
    }

    /// Cancels every task and waits until they have ended, at most until `deadline`; returns
    /// whether they all did.
    pub async fn shutdown(&self, deadline: Instant) -> bool {
        self.stopping.cancel();
        self.tracker.close();
        let ended = tokio::time::timeout_at(deadline, self.tracker.wait())
            .await
            .is_ok();
        if !ended {
            tracing::warn!(
                tasks = self.tracker.len(),
                "background tasks still running at the end of the grace period"
            );
        }
        ended
    }
}

/// The message a panic was raised with, when it is text.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a text message)")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    /// Sets a flag when dropped: tells whether a task's future was dropped (cancelled).
    struct Dropped(Arc<AtomicBool>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_returns_is_reported_by_name_and_counted() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let scrape = recorder.handle();
        let _local = metrics::set_default_local_recorder(&recorder);
        let supervisor = Supervisor::new();
        supervisor.spawn("metrics_upkeep", std::future::pending());

        supervisor.spawn("event_delivery", async {});

        assert_eq!(supervisor.task_stopped().await, "event_delivery");
        assert_eq!(supervisor.health().stopped(), ["event_delivery"]);
        assert!(
            scrape
                .render()
                .contains(r#"chat_task_stopped_total{task="event_delivery"} 1"#),
            "{}",
            scrape.render()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_is_reported_like_one_that_returns() {
        let supervisor = Supervisor::new();

        supervisor.spawn("lease_renewal", async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            panic!("the lease store answered nonsense");
        });

        assert_eq!(supervisor.task_stopped().await, "lease_renewal");
        assert_eq!(supervisor.health().stopped(), ["lease_renewal"]);
    }

    #[tokio::test(start_paused = true)]
    async fn running_tasks_keep_the_health_clean() {
        let supervisor = Supervisor::new();
        supervisor.spawn("event_delivery", std::future::pending());

        tokio::time::sleep(Duration::from_secs(3600)).await;

        assert!(supervisor.health().stopped().is_empty());
        assert!(supervisor.task_stopped().now_or_never().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_cancels_every_task_and_waits_for_it_without_counting_a_failure() {
        let supervisor = Supervisor::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = Dropped(dropped.clone());
        supervisor.spawn("event_delivery", async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        assert!(!dropped.load(Ordering::SeqCst), "runs until shutdown");

        let ended = supervisor
            .shutdown(Instant::now() + Duration::from_secs(10))
            .await;

        assert!(ended);
        assert!(dropped.load(Ordering::SeqCst));
        assert!(supervisor.health().stopped().is_empty());
    }
}

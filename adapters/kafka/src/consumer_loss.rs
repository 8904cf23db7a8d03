//! Whether a consumer thread of the bus ended while the bus was open. Nothing but a panic ends
//! one (its loop survives every Kafka error), and the instance would then silently stop hearing
//! a topic while still publishing to it. Instead the bus turns not ready and every event stream
//! of the bus ends: the server's event delivery stops visibly, and its supervisor takes the
//! instance out of service.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::readiness::Readiness;

/// Shared by the bus (its streams wait on it) and its consumer threads (each holds a
/// [`ConsumerAlive`]).
#[derive(Debug, Clone)]
pub(crate) struct ConsumerLoss {
    /// `true` once a consumer thread ended while the bus was open.
    lost: Arc<watch::Sender<bool>>,
}

impl ConsumerLoss {
    /// Nothing lost yet.
    pub(crate) fn new() -> Self {
        Self {
            lost: Arc::new(watch::Sender::new(false)),
        }
    }

    /// What consumer thread `index` (of `topic`) holds for as long as it runs; `stop` is the
    /// bus's closing flag (a thread ending after it is set is not lost).
    pub(crate) fn alive(
        &self,
        topic: &str,
        index: usize,
        readiness: Arc<Readiness>,
        stop: Arc<AtomicBool>,
    ) -> ConsumerAlive {
        ConsumerAlive {
            topic: topic.to_owned(),
            index,
            readiness,
            stop,
            lost: Arc::clone(&self.lost),
        }
    }

    /// Resolves once a consumer thread was lost (at once if one already was).
    pub(crate) fn lost(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut lost = self.lost.subscribe();
        async move {
            // An error means every sender is gone, and with them the bus: nothing more comes.
            let _ = lost.wait_for(|lost| *lost).await;
        }
    }
}

/// Held by a running consumer thread; dropped when the thread ends, returning or unwinding.
pub(crate) struct ConsumerAlive {
    topic: String,
    index: usize,
    readiness: Arc<Readiness>,
    stop: Arc<AtomicBool>,
    lost: Arc<watch::Sender<bool>>,
}

impl Drop for ConsumerAlive {
    fn drop(&mut self) {
        if self.stop.load(Ordering::SeqCst) {
            return;
        }
        self.readiness.set(self.index, false);
        tracing::error!(
            topic = self.topic,
            "a Kafka consumer thread ended while the bus is open; the bus's event streams end"
        );
        self.lost.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt as _;

    use super::*;

    fn ready_consumer() -> Arc<Readiness> {
        let readiness = Arc::new(Readiness::new(vec!["chat".into()]));
        readiness.set(0, true);
        readiness
    }

    #[test]
    fn a_consumer_thread_that_panics_is_lost_and_its_bus_not_ready() {
        let loss = ConsumerLoss::new();
        let readiness = ready_consumer();
        let alive = loss.alive("chat", 0, readiness.clone(), Arc::default());

        let thread = std::thread::spawn(move || {
            let _alive = alive;
            panic!("a bug in the poll loop");
        });

        assert!(thread.join().is_err(), "the thread panicked");
        assert!(loss.lost().now_or_never().is_some());
        assert!(!readiness.is_ready());
    }

    #[test]
    fn a_consumer_stopped_by_its_closing_bus_is_not_lost() {
        let loss = ConsumerLoss::new();
        let stop = Arc::new(AtomicBool::new(false));
        let alive = loss.alive("chat", 0, ready_consumer(), stop.clone());

        stop.store(true, Ordering::SeqCst);
        drop(alive);

        assert!(loss.lost().now_or_never().is_none());
    }

    #[test]
    fn running_consumers_are_not_lost() {
        let loss = ConsumerLoss::new();
        let _alive = loss.alive("chat", 0, ready_consumer(), Arc::default());

        assert!(loss.lost().now_or_never().is_none());
    }
}

//! Whether every consumer of the bus has its partitions and knows where to start reading:
//! until then, events published by anyone could pass this instance by.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// One flag per consumer, set by the consumer's rebalance callback.
#[derive(Debug)]
pub(crate) struct Readiness {
    topics: Vec<String>,
    ready: Vec<AtomicBool>,
    /// Whether "event bus ready" was logged since the bus last became ready.
    announced: AtomicBool,
    started: Instant,
}

impl Readiness {
    /// Nothing ready yet, one consumer per topic.
    pub(crate) fn new(topics: Vec<String>) -> Self {
        Self {
            ready: topics.iter().map(|_| AtomicBool::new(false)).collect(),
            topics,
            announced: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// Records whether consumer `index` is ready, logging the bus's transitions.
    pub(crate) fn set(&self, index: usize, ready: bool) {
        let Some(flag) = self.ready.get(index) else {
            return;
        };
        let was = flag.swap(ready, Ordering::SeqCst);
        let topic = self.topics.get(index).map_or("", String::as_str);
        if ready && self.is_ready() && !self.announced.swap(true, Ordering::SeqCst) {
            let elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::info!(elapsed_ms, "event bus ready");
        }
        if was && !ready {
            self.announced.store(false, Ordering::SeqCst);
            tracing::warn!(
                topic,
                "Kafka consumer lost its partitions; event bus not ready"
            );
        }
    }

    /// Whether consumer `index` is ready.
    pub(crate) fn is_consumer_ready(&self, index: usize) -> bool {
        self.ready
            .get(index)
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }

    /// Whether every consumer is ready.
    pub(crate) fn is_ready(&self) -> bool {
        self.ready.iter().all(|flag| flag.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bus_is_ready_only_when_every_consumer_is() {
        let readiness = Readiness::new(vec!["a".into(), "b".into()]);
        assert!(!readiness.is_ready());
        readiness.set(0, true);
        assert!(!readiness.is_ready());
        readiness.set(1, true);
        assert!(readiness.is_ready());
        readiness.set(0, false);
        assert!(!readiness.is_ready());
        assert!(readiness.is_consumer_ready(1));
    }
}

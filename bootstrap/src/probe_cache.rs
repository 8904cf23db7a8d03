//! The last result of an expensive probe, reused while it is fresh: a burst of callers
//! (a load balancer, a scraper, an attacker hammering `/readyz`) costs the probed
//! services one round per period, and callers arriving during a round wait for it and
//! share its result instead of starting their own.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// A probe result and when it was taken.
pub struct ProbeCache<T> {
    fresh_for: Duration,
    last: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> ProbeCache<T> {
    /// A cache whose results are reused for `fresh_for`.
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            fresh_for,
            last: Mutex::new(None),
        }
    }

    /// The last result while fresh, else a new one from `probe`. The lock is held while
    /// probing, so concurrent callers share one round; a caller that goes away mid-round
    /// releases it and the next caller probes.
    pub async fn get_or_probe<F>(&self, probe: impl FnOnce() -> F) -> T
    where
        F: Future<Output = T>,
    {
        let mut last = self.last.lock().await;
        if let Some((taken, result)) = last.as_ref()
            && taken.elapsed() < self.fresh_for
        {
            return result.clone();
        }
        let result = probe().await;
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A probe that counts its rounds and answers the round's number.
    #[derive(Clone, Default)]
    struct CountingProbe(Arc<AtomicUsize>);

    impl CountingProbe {
        async fn probe(&self) -> usize {
            // Let other callers run while this round is in flight.
            tokio::task::yield_now().await;
            self.0.fetch_add(1, Ordering::SeqCst) + 1
        }

        fn rounds(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn a_fresh_result_is_reused_without_probing_again() {
        let probe = CountingProbe::default();
        let cache = ProbeCache::new(Duration::from_secs(3600));

        let first = cache.get_or_probe(|| probe.probe()).await;
        let second = cache.get_or_probe(|| probe.probe()).await;

        assert_eq!((first, second), (1, 1));
        assert_eq!(probe.rounds(), 1);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_probe_round() {
        let probe = CountingProbe::default();
        let cache = ProbeCache::new(Duration::from_secs(3600));

        let results =
            futures::future::join_all((0..10).map(|_| cache.get_or_probe(|| probe.probe()))).await;

        assert_eq!(results, vec![1; 10]);
        assert_eq!(probe.rounds(), 1);
    }

    #[tokio::test]
    async fn a_stale_result_is_probed_again() {
        let probe = CountingProbe::default();
        let cache = ProbeCache::new(Duration::ZERO);

        cache.get_or_probe(|| probe.probe()).await;
        let second = cache.get_or_probe(|| probe.probe()).await;

        assert_eq!(second, 2);
        assert_eq!(probe.rounds(), 2);
    }
}

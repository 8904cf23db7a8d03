//! Room events a subscription missed because its connection's queue was full: one run of
//! seqs per subscription, announced to the client as a `gap` event (it reloads the room
//! over REST) before anything newer is queued to that subscription, or as soon as the
//! connection's queue is empty.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use domain::{Audience, Seq};

use crate::gap_notice::gap_body;
use crate::hub::Delivery;

/// One subscription's run of missed seqs.
#[derive(Debug)]
pub(crate) struct MissedRun {
    subscription: Arc<str>,
    destination: Arc<str>,
    audience: Audience,
    from: Seq,
    to: Seq,
}

impl MissedRun {
    /// The `gap` event announcing this run.
    pub(crate) fn notice(&self) -> Delivery {
        Delivery {
            destination: self.destination.clone(),
            subscription: self.subscription.clone(),
            body: gap_body(self.audience, self.from, self.to),
            seq: None,
        }
    }
}

/// The missed runs of one connection's subscriptions.
#[derive(Debug, Default)]
pub(crate) struct MissedRuns {
    /// Whether `runs` holds anything: the delivery path looks here, without the lock.
    pending: AtomicBool,
    runs: Mutex<Vec<MissedRun>>,
}

/// The runs, locked: the hub queues a subscription's deliveries under it while that
/// subscription has a run, and the session takes runs under it, so a gap is never queued
/// out of its place.
pub(crate) struct LockedRuns<'a> {
    owner: &'a MissedRuns,
    runs: MutexGuard<'a, Vec<MissedRun>>,
}

impl MissedRuns {
    pub(crate) fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    pub(crate) fn lock(&self) -> LockedRuns<'_> {
        LockedRuns {
            owner: self,
            runs: self
                .runs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }
}

impl LockedRuns<'_> {
    /// Removes and returns the run of `subscription`, if it has one.
    pub(crate) fn take(&mut self, subscription: &str) -> Option<MissedRun> {
        let index = self
            .runs
            .iter()
            .position(|run| &*run.subscription == subscription)?;
        let run = self.runs.swap_remove(index);
        self.owner
            .pending
            .store(!self.runs.is_empty(), Ordering::Release);
        Some(run)
    }

    /// Removes and returns every run.
    pub(crate) fn take_all(&mut self) -> Vec<MissedRun> {
        self.owner.pending.store(false, Ordering::Release);
        std::mem::take(&mut *self.runs)
    }

    /// Records that `seq` of `audience` was not queued to `subscription` (on `destination`).
    pub(crate) fn missed(
        &mut self,
        subscription: &Arc<str>,
        destination: &Arc<str>,
        audience: Audience,
        seq: Seq,
    ) {
        if let Some(run) = self
            .runs
            .iter_mut()
            .find(|run| run.subscription == *subscription)
        {
            run.from = run.from.min(seq);
            run.to = run.to.max(seq);
        } else {
            self.runs.push(MissedRun {
                subscription: subscription.clone(),
                destination: destination.clone(),
                audience,
                from: seq,
                to: seq,
            });
            self.owner.pending.store(true, Ordering::Release);
        }
    }

    /// Puts a run back (its gap could not be queued either).
    pub(crate) fn restore(&mut self, run: MissedRun) {
        self.runs.push(run);
        self.owner.pending.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;

    const DM: Audience = Audience::Direct(RoomId::new(5));

    #[test]
    fn a_run_spans_every_missed_seq_of_its_subscription() {
        let runs = MissedRuns::default();
        let (sub, dest): (Arc<str>, Arc<str>) = (Arc::from("s"), Arc::from("/topic/direct/5"));
        let mut locked = runs.lock();
        locked.missed(&sub, &dest, DM, Seq::new(7));
        locked.missed(&sub, &dest, DM, Seq::new(9));
        locked.missed(&Arc::from("other"), &dest, DM, Seq::new(8));
        assert!(runs.pending());

        let run = locked.take("s").expect("a run");
        let body: serde_json::Value = serde_json::from_slice(&run.notice().body).expect("json");

        assert_eq!(body["type"], "gap");
        assert_eq!(
            (body["fromSeq"].as_u64(), body["toSeq"].as_u64()),
            (Some(7), Some(9))
        );
        assert!(runs.pending(), "the other subscription's run is left");
        assert_eq!(locked.take_all().len(), 1);
        assert!(!runs.pending());
    }
}

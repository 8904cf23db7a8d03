//! [`SendTurn`]: a connection's place in line for the store step of a message change, so
//! requests that run concurrently still take effect in the order they were sent.
//!
//! A STOMP connection runs several SENDs at once. Their checks and their publishes may
//! overlap, but their store steps must not: a connection's posts to a room get increasing
//! seqs in the order sent, and an edit sent right after a post finds the message. Each
//! request gets the next turn of its connection's [`SendLine`]; the use case waits for it
//! just before its store step and passes it on right after, so only store steps are
//! serialised. A turn dropped without being waited for (a request refused early) hands its
//! own wait on to the next turn, so the line never lets a later turn overtake an earlier one.

use futures::channel::oneshot;

/// What a turn hands the next one when it ends: nothing more to wait for, or the earlier
/// turn it never waited for (it was dropped first), which the next one must wait for instead.
#[derive(Debug)]
struct Handoff(Option<oneshot::Receiver<Handoff>>);

/// One request's turn for its store step: [`SendTurn::wait`] before it, [`SendTurn::pass`]
/// (or drop) after it.
#[derive(Debug)]
pub struct SendTurn {
    /// The previous turn's handoff, until it came.
    previous: Option<oneshot::Receiver<Handoff>>,
    /// The next turn's handoff, sent when this turn ends.
    next: Option<oneshot::Sender<Handoff>>,
}

impl SendTurn {
    /// A turn outside any line: it never waits, and nobody waits for it (a caller
    /// whose requests need no order between them).
    pub fn free() -> Self {
        Self {
            previous: None,
            next: None,
        }
    }

    /// Waits until every earlier turn of the line has passed. Cancel-safe: a wait given
    /// up part way is handed on, when the turn is dropped, to the next turn.
    pub async fn wait(&mut self) {
        while let Some(previous) = &mut self.previous {
            let handoff = previous.await;
            // A sender dropped without a handoff (a panic mid-drop) ends its wait too.
            self.previous = handoff.ok().and_then(|Handoff(earlier)| earlier);
        }
    }

    /// Lets the next turn go: the store step is done.
    pub fn pass(self) {
        drop(self);
    }
}

impl Drop for SendTurn {
    fn drop(&mut self) {
        // Skipping the turns that already passed keeps handoffs short when many
        // turns in a row are dropped unused.
        while let Some(previous) = &mut self.previous {
            match previous.try_recv() {
                Ok(Some(Handoff(earlier))) => self.previous = earlier,
                Ok(None) => break,
                Err(oneshot::Canceled) => self.previous = None,
            }
        }
        if let Some(next) = self.next.take() {
            // The next turn may be gone already; then nobody is waiting.
            let _ = next.send(Handoff(self.previous.take()));
        }
    }
}

/// The turns of one connection, handed out in the order its requests arrive.
#[derive(Debug, Default)]
pub struct SendLine {
    /// The handoff of the turn handed out last.
    last: Option<oneshot::Receiver<Handoff>>,
}

impl SendLine {
    /// A line whose first turn need not wait.
    pub fn new() -> Self {
        Self::default()
    }

    /// The turn after every turn handed out so far.
    pub fn next_turn(&mut self) -> SendTurn {
        let (next, handoff) = oneshot::channel();
        SendTurn {
            previous: self.last.replace(handoff),
            next: Some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;

    use futures::poll;

    use super::*;

    #[tokio::test]
    async fn the_first_turn_of_a_line_and_a_free_turn_go_at_once() {
        let mut line = SendLine::new();

        line.next_turn().wait().await;
        SendTurn::free().wait().await;
    }

    #[tokio::test]
    async fn a_turn_waits_until_the_one_before_it_passes() {
        let mut line = SendLine::new();
        let first = line.next_turn();
        let mut second = line.next_turn();

        {
            let waiting = pin!(second.wait());
            assert!(poll!(waiting).is_pending(), "the first has not passed");
        }
        first.pass();

        assert!(poll!(pin!(second.wait())).is_ready());
    }

    #[tokio::test]
    async fn a_turn_dropped_before_its_wait_still_keeps_the_next_behind_the_earlier_one() {
        let mut line = SendLine::new();
        let first = line.next_turn();
        let refused_early = line.next_turn();
        let mut third = line.next_turn();

        drop(refused_early);

        assert!(
            poll!(pin!(third.wait())).is_pending(),
            "the first has not passed"
        );
        first.pass();
        assert!(poll!(pin!(third.wait())).is_ready());
    }

    #[tokio::test]
    async fn a_wait_given_up_part_way_is_handed_on_to_the_next_turn() {
        let mut line = SendLine::new();
        let first = line.next_turn();
        let mut cancelled = line.next_turn();
        let mut third = line.next_turn();

        assert!(poll!(pin!(cancelled.wait())).is_pending());
        drop(cancelled);

        assert!(poll!(pin!(third.wait())).is_pending());
        first.pass();
        assert!(poll!(pin!(third.wait())).is_ready());
    }

    #[tokio::test]
    async fn a_long_line_of_turns_dropped_unused_lets_the_last_one_go() {
        let mut line = SendLine::new();
        let turns: Vec<_> = (0..100).map(|_| line.next_turn()).collect();
        let mut last = line.next_turn();

        drop(turns);

        assert!(poll!(pin!(last.wait())).is_ready());
    }
}

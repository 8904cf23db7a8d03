//! The SENDs of one connection that are still running: each runs as its own task, at most
//! `stomp.max_sends_in_flight` at once, and they are answered (RECEIPT or refusal) in the
//! order they were received.
//!
//! Running them beside the session's loop keeps a connection alive while the store and the
//! bus are slow: its MESSAGE frames, heart-beats and timers go on, and its next SENDs start.
//! The loop stops reading the socket while the line is full (back-pressure), so nothing
//! queues without bound. Their store steps stay in the order sent through the line's
//! [`SendTurn`]s. A send's task is not tied to the session: when the session ends, running
//! sends still finish, because stopping one between its store step and its publish would
//! leave a message stored that nobody heard of, and a turn it holds would be cut short.

use std::future::Future;

use application::ports::inbound::{SendLine, SendTurn};
use futures::StreamExt as _;
use futures::future::{self, BoxFuture, FutureExt as _};
use futures::stream::FuturesOrdered;
use tracing::Instrument as _;

use super::sends::Stored;
use crate::refusal::Refusal;
use crate::server::StompServer;

/// What a finished SEND is answered with, in its place in line.
pub(super) struct Answer {
    /// The SEND's `receipt` header.
    pub(super) receipt: Option<String>,
    /// The SEND's destination, named in a refusal.
    pub(super) destination: String,
    /// A RECEIPT (naming what was stored, if anything) or a refusal.
    pub(super) outcome: Result<Option<Stored>, Refusal>,
}

/// The running SENDs of one connection, oldest first.
pub(super) struct InFlight {
    answers: FuturesOrdered<BoxFuture<'static, Answer>>,
    line: SendLine,
    bound: usize,
}

impl InFlight {
    /// Room for `bound` SENDs at once (at least one).
    pub(super) fn new(bound: usize) -> Self {
        Self {
            answers: FuturesOrdered::new(),
            line: SendLine::new(),
            bound: bound.max(1),
        }
    }

    /// Whether the session must stop reading until an answer frees a place.
    pub(super) fn is_full(&self) -> bool {
        self.answers.len() >= self.bound
    }

    pub(super) fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The store-step turn of the SEND received now, behind every earlier one.
    pub(super) fn next_turn(&mut self) -> SendTurn {
        self.line.next_turn()
    }

    /// Runs `work` as its own task (shutdown waits for it); its answer comes in its place.
    pub(super) fn run<W>(
        &mut self,
        server: &StompServer,
        receipt: Option<String>,
        destination: String,
        work: W,
    ) where
        W: Future<Output = Result<Option<Stored>, Refusal>> + Send + 'static,
    {
        // Its log lines stay in the session's span (the peer's address).
        let task = server.spawn_send(work.in_current_span());
        let answer = async move {
            let outcome = task.await.unwrap_or_else(|failed| {
                Err(Refusal::unavailable(&anyhow::anyhow!(
                    "a SEND's task failed: {failed}"
                )))
            });
            Answer {
                receipt,
                destination,
                outcome,
            }
        };
        self.answers.push_back(answer.boxed());
    }

    /// Queues an answer known at once (a refusal before anything ran) behind the running ones.
    pub(super) fn answer_now(&mut self, answer: Answer) {
        self.answers.push_back(future::ready(answer).boxed());
    }

    /// The oldest SEND's answer, once it is done; `None` when nothing runs. Cancel-safe.
    pub(super) async fn next(&mut self) -> Option<Answer> {
        self.answers.next().await
    }
}

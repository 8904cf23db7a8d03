//! One SockJS session: the queue between the STOMP session task and whichever
//! receiving connection (a poll, a stream or a WebSocket) is attached at the moment.
//!
//! The STOMP task writes frames into `pending` ([`SessionOutbound`]) and reads
//! what clients sent ([`SessionInbound`]). A receiving connection attaches
//! ([`SockJsSession::attach`]), takes everything pending as one `a[…]` frame, and
//! detaches when it ends. At most one receiver is attached at a time; an HTTP
//! session left without one for the disconnect delay is closed
//! ([`SockJsSession::expire_when_abandoned`]), which ends the STOMP session.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::frame::ServerFrame;
use crate::transport::{Close, Inbound, InboundSource, OutboundSink, TransportClosed};

/// Client messages waiting for the STOMP task, per session.
const INBOUND_QUEUE: usize = 64;

/// How long a client request may wait for the STOMP task to take its messages.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The session can take no more client messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliveryError {
    /// The session is closed (or closing).
    Closed,
    /// The STOMP task did not take the messages in time.
    Busy,
}

/// Shared state of one session.
pub(crate) struct SockJsSession {
    state: Mutex<State>,
    /// Bumped on every change of `state`, so waiters re-check it.
    changed: watch::Sender<()>,
    /// Cancelled once the session is closed.
    closed: CancellationToken,
    inbound: mpsc::Sender<Vec<u8>>,
    max_pending: usize,
    disconnect_delay: Duration,
}

struct State {
    /// STOMP frames not yet taken by a receiver, oldest first.
    pending: VecDeque<String>,
    /// The attached receiver's ticket, if one is attached.
    receiver: Option<u64>,
    next_ticket: u64,
    /// Since when no receiver is attached.
    detached_at: Instant,
    /// The close frame, once the session is closed.
    close: Option<ServerFrame>,
}

/// What a receiving connection gets when it asks to attach.
pub(crate) enum Attach {
    Attached(Receiver),
    /// The session is closed and nothing is pending: answer with its close frame.
    Closed(ServerFrame),
    /// Another receiver is attached.
    Busy,
}

impl SockJsSession {
    /// A new session and the two halves the STOMP task runs on.
    pub(crate) fn open(
        max_pending: usize,
        disconnect_delay: Duration,
    ) -> (Arc<Self>, SessionInbound, SessionOutbound) {
        let (sender, receiver) = mpsc::channel(INBOUND_QUEUE);
        let session = Arc::new(Self {
            state: Mutex::new(State {
                pending: VecDeque::new(),
                receiver: None,
                next_ticket: 0,
                detached_at: Instant::now(),
                close: None,
            }),
            changed: watch::Sender::new(()),
            closed: CancellationToken::new(),
            inbound: sender,
            max_pending: max_pending.max(1),
            disconnect_delay,
        });
        let inbound = SessionInbound {
            closed: session.closed.clone(),
            messages: receiver,
        };
        let outbound = SessionOutbound(session.clone());
        (session, inbound, outbound)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the queue half-updated.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the session once; later calls keep the first close frame.
    pub(crate) fn close(&self, frame: ServerFrame) {
        {
            let mut state = self.state();
            if state.close.is_none() {
                state.close = Some(frame);
            }
        }
        self.closed.cancel();
        self.changed.send_replace(());
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Resolves once the session is closed.
    pub(crate) async fn closed(&self) {
        self.closed.cancelled().await;
    }

    /// Hands client messages to the STOMP task, in order.
    pub(crate) async fn deliver(&self, messages: Vec<String>) -> Result<(), DeliveryError> {
        for message in messages {
            if self.is_closed() {
                return Err(DeliveryError::Closed);
            }
            let sent = tokio::select! {
                () = self.closed.cancelled() => return Err(DeliveryError::Closed),
                sent = tokio::time::timeout(DELIVERY_TIMEOUT, self.inbound.send(message.into_bytes())) => sent,
            };
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(DeliveryError::Closed),
                Err(_) => return Err(DeliveryError::Busy),
            }
        }
        Ok(())
    }

    /// Attaches a receiving connection, unless another one is attached.
    pub(crate) fn attach(self: &Arc<Self>) -> Attach {
        let mut state = self.state();
        if state.close.is_some() && state.pending.is_empty() {
            return Attach::Closed(
                state
                    .close
                    .clone()
                    .unwrap_or_else(ServerFrame::another_connection),
            );
        }
        if state.receiver.is_some() {
            return Attach::Busy;
        }
        state.next_ticket += 1;
        let ticket = state.next_ticket;
        state.receiver = Some(ticket);
        drop(state);
        self.changed.send_replace(());
        Attach::Attached(Receiver {
            session: self.clone(),
            ticket,
            changed: self.changed.subscribe(),
        })
    }

    /// Everything pending as one frame, else the close frame, else nothing.
    fn take(&self) -> Option<ServerFrame> {
        let mut state = self.state();
        if !state.pending.is_empty() {
            let messages: Vec<String> = state.pending.drain(..).collect();
            drop(state);
            self.changed.send_replace(());
            return Some(ServerFrame::Messages(messages));
        }
        state.close.clone()
    }

    /// Closes the session once it had no receiver for the disconnect delay; returns
    /// when the session is closed, for whatever reason.
    pub(crate) async fn expire_when_abandoned(&self) {
        let mut changed = self.changed.subscribe();
        loop {
            changed.borrow_and_update();
            let deadline = {
                let state = self.state();
                if state.close.is_some() {
                    return;
                }
                state
                    .receiver
                    .is_none()
                    .then(|| state.detached_at + self.disconnect_delay)
            };
            match deadline {
                Some(deadline) if Instant::now() >= deadline => {
                    tracing::debug!("SockJS session had no receiving connection; closing it");
                    self.close(ServerFrame::Close(
                        1002,
                        "Connection interrupted".to_owned(),
                    ));
                    return;
                }
                Some(deadline) => {
                    tokio::select! {
                        _ = changed.changed() => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
                None => {
                    let _ = changed.changed().await;
                }
            }
        }
    }
}

/// An attached receiving connection; detaches when dropped.
pub(crate) struct Receiver {
    session: Arc<SockJsSession>,
    ticket: u64,
    changed: watch::Receiver<()>,
}

impl Receiver {
    /// The next frame to send: pending messages, the close frame, or a heart-beat
    /// once nothing happened for `idle`. Cancel-safe.
    pub(crate) async fn next_frame(&mut self, idle: Duration) -> ServerFrame {
        let deadline = Instant::now() + idle;
        loop {
            self.changed.borrow_and_update();
            if let Some(frame) = self.session.take() {
                return frame;
            }
            tokio::select! {
                _ = self.changed.changed() => {}
                () = tokio::time::sleep_until(deadline) => return ServerFrame::Heartbeat,
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        {
            let mut state = self.session.state();
            if state.receiver == Some(self.ticket) {
                state.receiver = None;
                state.detached_at = Instant::now();
            }
        }
        self.session.changed.send_replace(());
    }
}

/// What the STOMP task reads: client messages until the session closes.
pub(crate) struct SessionInbound {
    closed: CancellationToken,
    messages: mpsc::Receiver<Vec<u8>>,
}

impl InboundSource for SessionInbound {
    async fn next(&mut self) -> Inbound {
        tokio::select! {
            biased;
            message = self.messages.recv() => message.map_or(Inbound::Closed, Inbound::Data),
            () = self.closed.cancelled() => Inbound::Closed,
        }
    }
}

/// What the STOMP task writes to: the session's pending queue.
pub(crate) struct SessionOutbound(Arc<SockJsSession>);

impl OutboundSink for SessionOutbound {
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportClosed> {
        let text = String::from_utf8(frame)
            .unwrap_or_else(|raw| String::from_utf8_lossy(raw.as_bytes()).into_owned());
        let session = &self.0;
        let mut changed = session.changed.subscribe();
        loop {
            changed.borrow_and_update();
            {
                let mut state = session.state();
                if state.close.is_some() {
                    return Err(TransportClosed);
                }
                if state.pending.len() < session.max_pending {
                    state.pending.push_back(text);
                    drop(state);
                    session.changed.send_replace(());
                    return Ok(());
                }
            }
            // Full: wait for a receiver to take the queue (or for the session to end).
            if changed.changed().await.is_err() {
                return Err(TransportClosed);
            }
        }
    }

    async fn close(&mut self, close: Close) {
        self.0.close(ServerFrame::closing(&close));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (Arc<SockJsSession>, SessionInbound, SessionOutbound) {
        SockJsSession::open(2, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_receiver_takes_everything_pending_as_one_frame() {
        let (session, _inbound, mut outbound) = open();
        outbound.send(b"one".to_vec()).await.unwrap();
        outbound.send(b"two".to_vec()).await.unwrap();
        let Attach::Attached(mut receiver) = session.attach() else {
            panic!("attaches");
        };
        assert_eq!(
            receiver.next_frame(Duration::from_secs(1)).await,
            ServerFrame::Messages(vec!["one".into(), "two".into()])
        );
    }

    #[tokio::test]
    async fn a_second_receiver_is_refused_while_one_is_attached() {
        let (session, _inbound, _outbound) = open();
        let first = session.attach();
        assert!(matches!(first, Attach::Attached(_)));
        assert!(matches!(session.attach(), Attach::Busy));
        drop(first);
        assert!(matches!(session.attach(), Attach::Attached(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_receiver_gets_a_heart_beat() {
        let (session, _inbound, _outbound) = open();
        let Attach::Attached(mut receiver) = session.attach() else {
            panic!("attaches");
        };
        assert_eq!(
            receiver.next_frame(Duration::from_secs(25)).await,
            ServerFrame::Heartbeat
        );
    }

    #[tokio::test]
    async fn pending_frames_are_delivered_before_the_close_frame() {
        let (session, _inbound, mut outbound) = open();
        outbound.send(b"ERROR".to_vec()).await.unwrap();
        outbound.close(Close::new(Close::NORMAL, "bye")).await;
        let Attach::Attached(mut receiver) = session.attach() else {
            panic!("attaches: a frame is still pending");
        };
        let idle = Duration::from_secs(1);
        assert_eq!(
            receiver.next_frame(idle).await,
            ServerFrame::Messages(vec!["ERROR".into()])
        );
        assert_eq!(
            receiver.next_frame(idle).await,
            ServerFrame::Close(3000, "Go away!".into())
        );
        drop(receiver);
        assert!(matches!(
            session.attach(),
            Attach::Closed(ServerFrame::Close(3000, _))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_without_receiver_expires_and_its_stomp_task_hears_it() {
        let (session, mut inbound, mut outbound) = open();
        session.expire_when_abandoned().await;
        assert!(session.is_closed());
        assert!(matches!(inbound.next().await, Inbound::Closed));
        assert_eq!(outbound.send(b"late".to_vec()).await, Err(TransportClosed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_makes_the_writer_wait_until_the_session_closes() {
        let (session, _inbound, mut outbound) = open();
        outbound.send(b"1".to_vec()).await.unwrap();
        outbound.send(b"2".to_vec()).await.unwrap();
        let closer = session.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            closer.close(ServerFrame::Close(1002, "Connection interrupted".into()));
        });
        assert_eq!(outbound.send(b"3".to_vec()).await, Err(TransportClosed));
    }

    #[tokio::test]
    async fn client_messages_reach_the_stomp_task_in_order() {
        let (session, mut inbound, _outbound) = open();
        session.deliver(vec!["a".into(), "b".into()]).await.unwrap();
        assert!(matches!(inbound.next().await, Inbound::Data(d) if d == b"a"));
        assert!(matches!(inbound.next().await, Inbound::Data(d) if d == b"b"));
        session.close(ServerFrame::Close(3000, "Go away!".into()));
        assert_eq!(
            session.deliver(vec!["c".into()]).await,
            Err(DeliveryError::Closed)
        );
    }
}

//! One task per STOMP connection: decode frames, call the chat, write frames.
//!
//! The task owns its transport (a raw WebSocket or a SockJS session, see
//! `transport`). It reads client frames, drains its mailbox of deliveries from the
//! hub, keeps heart-beats, and stops on DISCONNECT, ERROR, transport loss,
//! slow-consumer overflow or server shutdown. Whatever the reason, the session is
//! closed exactly once through the chat's disconnect use case.
//!
//! SENDs run beside the loop (`in_flight`), so a slow store or bus never stops the
//! deliveries and heart-beats of the connection; they are answered in the order received,
//! and while `stomp.max_sends_in_flight` of them run, the socket is not read. Before the
//! session's last frame (ERROR, the DISCONNECT's RECEIPT, the shutdown close) the running
//! SENDs are waited for and answered; when the client is gone they still finish, unanswered.
//!
//! Bounds, so no client can hold a task or a user's presence forever: every write
//! and close has a deadline (`stomp.write_timeout_ms`; on shutdown a write is given
//! up at once), the session ends at its token's expiry, each subscription is
//! authorised again periodically and when its group's member list changes here,
//! SUBSCRIBEs spend the user's allowance, and refusals are logged and tolerated
//! only up to a per-session budget.
//!
//! This file holds the [`Session`] itself, its loop, timers and dispatch of client
//! frames; each concern it dispatches to has its own file: `handshake` (CONNECT,
//! DISCONNECT), `subscriptions` (and `seams`, for resumed ones), `sends` and `in_flight`
//! (running SENDs), `refusals` (refused requests and fatal errors) and `writing` (every write
//! and the close, with their deadline).

mod handshake;
mod in_flight;
mod refusals;
mod seams;
mod sends;
mod subscriptions;
mod writing;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use domain::{Audience, SessionId, UserId};
use metric_names::stomp as metric;
use tokio::time::Instant;

use crate::caps::{SocketPermit, UserPermit};
use crate::frame::{Command, Decoded, Decoder, Frame, FrameError, Limits, Version};
use crate::heartbeat::HeartBeats;
use crate::hub::Mailbox;
use crate::refusal::{Fatal, Refusal};
use crate::refusal_budget::RefusalBudget;
use crate::server::StompServer;
use crate::transport::{Close, HeartBeatOffer, Inbound, InboundSource, OutboundSink};
use in_flight::InFlight;

/// What the loop does after handling something.
enum Flow {
    Continue,
    Stop,
}

/// The authenticated part of a connection.
struct Open {
    session: SessionId,
    user: UserId,
    /// The session's place under its user's cap.
    _permit: Option<UserPermit>,
    /// When the access token expires.
    expires: Instant,
}

/// One client's STOMP session: its transport, its protocol state and what it holds
/// (subscriptions, a place under the caps, the chat session after CONNECT).
pub(crate) struct Session<O: OutboundSink> {
    server: Arc<StompServer>,
    out: O,
    offer: HeartBeatOffer,
    decoder: Decoder,
    buffer: BytesMut,
    version: Version,
    mailbox: Mailbox,
    open: Option<Open>,
    subscriptions: HashMap<String, Audience>,
    /// Resumed subscriptions: the seam between their replay and live events.
    seams: seams::Seams,
    error_queue: Option<String>,
    sent_messages: u64,
    heart_beats: HeartBeats,
    last_sent: Instant,
    last_received: Instant,
    /// The socket's place under the connection caps.
    permit: SocketPermit,
    refusals: RefusalBudget,
    /// When every subscription is next authorised again.
    reauthorize_at: Option<Instant>,
    /// A write timed out: the client reads nothing, so nothing more is written.
    stuck: bool,
    /// SENDs running beside the loop, answered in the order received.
    sends: InFlight,
}

impl<O: OutboundSink> Session<O> {
    pub(crate) fn new(
        server: Arc<StompServer>,
        out: O,
        offer: HeartBeatOffer,
        permit: SocketPermit,
    ) -> Self {
        let settings = &server.settings;
        let limits = Limits {
            max_frame_bytes: settings.max_frame_bytes,
            max_body_bytes: settings.max_frame_bytes,
            ..Limits::default()
        };
        let mailbox = server.hub.open_mailbox();
        let refusals = RefusalBudget::new(settings.refusal_burst, settings.refusals_per_second);
        let now = Instant::now();
        Self {
            decoder: Decoder::new(limits),
            buffer: BytesMut::new(),
            version: Version::V1_2,
            mailbox,
            open: None,
            subscriptions: HashMap::new(),
            seams: seams::Seams::new(settings.outbound_queue),
            error_queue: None,
            sent_messages: 0,
            heart_beats: HeartBeats::default(),
            last_sent: now,
            last_received: now,
            permit,
            refusals,
            reauthorize_at: None,
            stuck: false,
            sends: InFlight::new(settings.max_sends_in_flight),
            server,
            out,
            offer,
        }
    }

    /// Serves the connection until it ends, then releases everything it held.
    pub(crate) async fn run(mut self, mut inbound: impl InboundSource) {
        let started = Instant::now();
        let connect_timeout = Duration::from_millis(self.server.settings.connect_timeout_ms);
        let shutdown = self.server.shutdown.clone();
        let overflow = self.mailbox.overflow.clone();
        let membership = self.mailbox.membership.clone();
        loop {
            let deadline = self.next_deadline(started, connect_timeout);
            // Back-pressure: with the line of SENDs full, the socket waits.
            let reading = !self.sends.is_full();
            let flow = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    self.settle().await;
                    self.close(Close::GOING_AWAY, "server shutting down").await;
                    Flow::Stop
                }
                () = overflow.cancelled() => {
                    self.fail(Fatal::SlowConsumer, "too many undelivered messages; reconnect to catch up", None).await
                }
                Some(answer) = self.sends.next(), if !self.sends.is_empty() => {
                    self.answered(answer, !reading).await
                }
                incoming = inbound.next(), if reading => match incoming {
                    Inbound::Data(data) => self.received(&data).await,
                    Inbound::Alive => {
                        self.last_received = Instant::now();
                        Flow::Continue
                    }
                    Inbound::Closed => Flow::Stop,
                },
                Some(delivery) = self.mailbox.next() => self.deliver(delivery).await,
                groups = membership.changed() => self.reauthorize(Some(&groups)).await,
                () = tokio::time::sleep_until(deadline) => {
                    self.tick(started, connect_timeout).await
                }
            };
            if matches!(flow, Flow::Stop) {
                break;
            }
        }
        self.release().await;
    }

    /// Releases what the session held. SENDs still running finish in their own tasks,
    /// unanswered: there is nobody left to answer.
    async fn release(&mut self) {
        self.server
            .hub
            .close(self.mailbox.id, self.subscriptions.values().copied());
        if let Some(open) = self.open.take()
            && let Err(error) = self.server.chat.sessions.disconnect(open.session).await
        {
            tracing::error!(?error, "session could not be closed");
        }
        let unlogged = self.refusals.unlogged();
        if unlogged > 0 {
            tracing::info!(unlogged, "further refusals of this session were not logged");
        }
    }

    /// When the next timer check is due: no periodic wake-ups, so an idle
    /// connection without heart-beats costs no CPU at all.
    fn next_deadline(&self, started: Instant, connect_timeout: Duration) -> Instant {
        let connect = self.open.is_none().then(|| started + connect_timeout);
        let silence = self
            .heart_beats
            .expect_every
            .filter(|_| !self.sends.is_full())
            .map(|every| self.last_received + every * 2);
        let heart_beat = self
            .heart_beats
            .send_every
            .map(|every| self.last_sent + every);
        let expiry = self.open.as_ref().map(|open| open.expires);
        [connect, silence, heart_beat, expiry, self.reauthorize_at]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
    }

    async fn tick(&mut self, started: Instant, connect_timeout: Duration) -> Flow {
        let now = Instant::now();
        if self.open.as_ref().is_some_and(|open| now >= open.expires) {
            return self
                .fail(
                    Fatal::TokenExpired,
                    "the access token expired; reconnect with a new one",
                    None,
                )
                .await;
        }
        if self.reauthorize_at.is_some_and(|at| now >= at) {
            self.reauthorize_at = Some(now + self.reauthorize_interval());
            if let Flow::Stop = self.reauthorize(None).await {
                return Flow::Stop;
            }
        }
        if self.open.is_none() && now.duration_since(started) >= connect_timeout {
            return self
                .fail(
                    Fatal::ConnectTimeout,
                    "no CONNECT frame received in time",
                    None,
                )
                .await;
        }
        // While the socket is not read (back-pressure), the client's silence is not its own.
        if let Some(expect) = self.heart_beats.expect_every
            && !self.sends.is_full()
            && now.duration_since(self.last_received) >= expect * 2
        {
            return self
                .fail(
                    Fatal::HeartBeatTimeout,
                    "no data or heart-beat received from the client in time",
                    None,
                )
                .await;
        }
        if let Some(every) = self.heart_beats.send_every
            && now.duration_since(self.last_sent) >= every
        {
            return self.write(b"\n".to_vec(), metric::HEARTBEAT).await;
        }
        Flow::Continue
    }

    async fn received(&mut self, bytes: &[u8]) -> Flow {
        self.last_received = Instant::now();
        self.buffer.extend_from_slice(bytes);
        self.decode_buffered().await
    }

    /// A running SEND is done: its answer, then the frames already read but left waiting
    /// while the line was full (they come before anything new from the socket).
    async fn answered(&mut self, answer: in_flight::Answer, was_full: bool) -> Flow {
        if was_full {
            // The socket is read again: the client's silence is counted from now.
            self.last_received = Instant::now();
        }
        if let Flow::Stop = self.answer(answer).await {
            return Flow::Stop;
        }
        self.decode_buffered().await
    }

    /// Handles the complete frames in the buffer, as long as the line of SENDs has room.
    async fn decode_buffered(&mut self) -> Flow {
        while !self.sends.is_full() {
            match self.decoder.decode(&mut self.buffer) {
                Ok(Some(Decoded::HeartBeat)) => {
                    count_frame(metric::FRAMES_RECEIVED, metric::HEARTBEAT);
                }
                Ok(Some(Decoded::Frame(frame))) => {
                    if let Flow::Stop = self.handle(frame).await {
                        return Flow::Stop;
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(error) => return self.malformed(&error).await,
            }
        }
        Flow::Continue
    }

    async fn malformed(&mut self, error: &FrameError) -> Flow {
        tracing::info!(%error, "malformed frame");
        self.fail(Fatal::MalformedFrame, &error.to_string(), None)
            .await
    }

    async fn handle(&mut self, frame: Frame) -> Flow {
        count_frame(metric::FRAMES_RECEIVED, frame.command.as_str());
        let receipt = frame.header("receipt").map(str::to_owned);
        let Some(user) = self.open.as_ref().map(|o| o.user) else {
            return match frame.command {
                Command::Connect | Command::Stomp => self.connect(&frame).await,
                _ => {
                    self.fail(
                        Fatal::NotConnected,
                        "the first frame must be CONNECT",
                        receipt.as_deref(),
                    )
                    .await
                }
            };
        };
        match frame.command {
            Command::Subscribe => self.subscribe(user, &frame, receipt.as_deref()).await,
            Command::Unsubscribe => self.unsubscribe(&frame, receipt.as_deref()).await,
            Command::Send => self.send(user, &frame, receipt.as_deref()).await,
            Command::Disconnect => self.disconnect(receipt.as_deref()).await,
            // Subscriptions are auto-acknowledged, so acknowledgements change nothing.
            Command::Ack | Command::Nack => self.receipt(receipt.as_deref()).await,
            Command::Begin | Command::Commit | Command::Abort => {
                let refusal = Refusal::new(
                    "transactions_not_supported",
                    "STOMP transactions are not supported",
                );
                self.refuse(&refusal, None, receipt.as_deref()).await
            }
            Command::Connect | Command::Stomp => {
                self.fail(
                    Fatal::AlreadyConnected,
                    "CONNECT sent twice",
                    receipt.as_deref(),
                )
                .await
            }
            Command::Connected | Command::Message | Command::Receipt | Command::Error => {
                self.fail(
                    Fatal::UnexpectedFrame,
                    "clients may not send server frames",
                    receipt.as_deref(),
                )
                .await
            }
        }
    }
}

/// Counts one frame in `counter` (received or sent) under its `command` label.
fn count_frame(counter: &'static str, command: &'static str) {
    metrics::counter!(counter, metric::COMMAND => command).increment(1);
}

#[cfg(test)]
mod tests;

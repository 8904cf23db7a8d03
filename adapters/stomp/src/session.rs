//! One task per STOMP connection: decode frames, call the chat, write frames.
//!
//! The task owns its transport (a raw WebSocket or a SockJS session, see
//! `transport`). It reads client frames, drains its mailbox of deliveries from the
//! hub, keeps heart-beats, and stops on DISCONNECT, ERROR, transport loss,
//! slow-consumer overflow or server shutdown. Whatever the reason, the session is
//! closed exactly once through the chat's disconnect use case.
//!
//! Bounds, so no client can hold a task or a user's presence forever: every write
//! and close has a deadline (`stomp.write_timeout_ms`; on shutdown a write is given
//! up at once), the session ends at its token's expiry, each subscription is
//! authorised again periodically and when its group's member list changes here,
//! SUBSCRIBEs spend the user's allowance, and refusals are logged and tolerated
//! only up to a per-session budget.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use application::ports::inbound::ChatService;
use application::ports::outbound::RequestKind;
use application::usecases::{ConnectCommand, ListenError};
use bytes::BytesMut;
use domain::{Audience, SessionId, UserId};
use metric_names::stomp as metric;
use tokio::time::Instant;

use crate::caps::{SocketPermit, UserPermit};
use crate::destination::{
    ERROR_QUEUE, Listen, SendTarget, audience_destination, parse_listen, parse_send,
};
use crate::frame::{Command, Decoded, Decoder, Frame, FrameError, Limits, Version, to_bytes};
use crate::heartbeat::{HeartBeats, negotiate};
use crate::hub::{Delivery, Mailbox};
use crate::lobby_payload::parse_lobby_request;
use crate::payload::{Request, parse_request};
use crate::refusal::{Fatal, Refusal};
use crate::refusal_budget::{RefusalBudget, quoted};
use crate::server::StompServer;
use crate::transport::{Close, HeartBeatOffer, Inbound, InboundSource, OutboundSink};

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

pub(crate) struct Connection<S: ChatService, O: OutboundSink> {
    server: Arc<StompServer<S>>,
    out: O,
    offer: HeartBeatOffer,
    decoder: Decoder,
    buffer: BytesMut,
    version: Version,
    mailbox: Mailbox,
    open: Option<Open>,
    subscriptions: HashMap<String, Audience>,
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
}

impl<S: ChatService, O: OutboundSink> Connection<S, O> {
    pub(crate) fn new(
        server: Arc<StompServer<S>>,
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
        let mailbox = server.hub.open_mailbox(settings.outbound_queue);
        let refusals = RefusalBudget::new(settings.refusal_burst, settings.refusals_per_second);
        let now = Instant::now();
        Self {
            decoder: Decoder::new(limits),
            buffer: BytesMut::new(),
            version: Version::V1_2,
            mailbox,
            open: None,
            subscriptions: HashMap::new(),
            error_queue: None,
            sent_messages: 0,
            heart_beats: HeartBeats::default(),
            last_sent: now,
            last_received: now,
            permit,
            refusals,
            reauthorize_at: None,
            stuck: false,
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
            let flow = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    self.close(Close::GOING_AWAY, "server shutting down").await;
                    Flow::Stop
                }
                () = overflow.cancelled() => {
                    self.fail(Fatal::SlowConsumer, "too many undelivered messages; reconnect to catch up", None).await
                }
                incoming = inbound.next() => match incoming {
                    Inbound::Data(data) => self.received(&data).await,
                    Inbound::Alive => {
                        self.last_received = Instant::now();
                        Flow::Continue
                    }
                    Inbound::Closed => Flow::Stop,
                },
                Some(delivery) = self.mailbox.deliveries.recv() => self.deliver(delivery).await,
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

    async fn release(&mut self) {
        self.server
            .hub
            .close(self.mailbox.id, self.subscriptions.values().copied());
        if let Some(open) = self.open.take()
            && let Err(error) = self.server.chat.disconnect(open.session).await
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
        if let Some(expect) = self.heart_beats.expect_every
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
        loop {
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

    async fn connect(&mut self, frame: &Frame) -> Flow {
        let Some(version) = Version::negotiate(frame.header("accept-version")) else {
            let fatal = Fatal::UnsupportedVersion;
            fatal.record();
            let error = Frame::new(Command::Error)
                .with_header("version", "1.0,1.1,1.2")
                .with_header("message", fatal.message())
                .with_header("content-type", "text/plain")
                .with_body("supported versions are 1.0, 1.1 and 1.2");
            self.write_frame(&error).await;
            self.close(Close::PROTOCOL_ERROR, fatal.message()).await;
            return Flow::Stop;
        };
        let token = frame
            .header("access-token")
            .or_else(|| {
                frame
                    .header("Authorization")
                    .or_else(|| frame.header("authorization"))
                    .map(|h| h.strip_prefix("Bearer ").unwrap_or(h))
            })
            .or_else(|| frame.header("passcode"))
            .map(str::to_owned);
        // The user's cap is checked before the session exists, so a refused connection
        // never announces its user online. A bad token is left to `connect` to explain.
        let user_permit = match token.as_deref().map(|t| self.server.chat.authenticate(t)) {
            Some(Ok(verified)) => match self.server.caps.admit_user(verified.user) {
                Ok(permit) => Some(permit),
                Err(cap) => {
                    cap.record();
                    return self
                        .fail(
                            Fatal::TooManyConnections,
                            cap.message(),
                            frame.header("receipt"),
                        )
                        .await;
                }
            },
            _ => None,
        };
        let command = ConnectCommand {
            token,
            claimed_user: frame.header("user-id").map(str::to_owned),
        };
        match self.server.chat.connect(command).await {
            Ok(connected) => {
                self.permit.authenticated();
                self.version = version;
                self.decoder.set_version(version);
                self.heart_beats = if version == Version::V1_0 {
                    HeartBeats::default()
                } else {
                    negotiate(
                        frame.header("heart-beat"),
                        self.offer.send_ms,
                        self.offer.receive_ms,
                    )
                };
                let offered = format!(
                    "{},{}",
                    self.heart_beats.send_every.map_or(0, |d| d.as_millis()),
                    self.heart_beats.expect_every.map_or(0, |d| d.as_millis())
                );
                let reply = Frame::new(Command::Connected)
                    .with_header("version", version.as_str())
                    .with_header("heart-beat", offered)
                    .with_header("server", concat!("chat-server/", env!("CARGO_PKG_VERSION")))
                    .with_header("session", connected.session.id.as_str())
                    .with_header("user-name", connected.session.user.to_string());
                let now = Instant::now();
                self.open = Some(Open {
                    session: connected.session.id,
                    user: connected.session.user,
                    _permit: user_permit,
                    expires: now + connected.token_valid_for,
                });
                let interval = self.reauthorize_interval();
                self.reauthorize_at = (!interval.is_zero()).then(|| now + interval);
                self.write_frame(&reply).await
            }
            Err(error) => {
                tracing::info!(%error, "connect refused");
                self.fail(
                    Fatal::ConnectRefused,
                    &error.to_string(),
                    frame.header("receipt"),
                )
                .await
            }
        }
    }

    async fn subscribe(&mut self, user: UserId, frame: &Frame, receipt: Option<&str>) -> Flow {
        let Some(destination) = frame.header("destination") else {
            return self
                .fail(
                    Fatal::MissingHeader,
                    "SUBSCRIBE needs a destination header",
                    receipt,
                )
                .await;
        };
        // STOMP 1.0 made `id` optional; the destination then names the subscription.
        let id = match (frame.header("id"), self.version) {
            (Some(id), _) => id.to_owned(),
            (None, Version::V1_0) => destination.to_owned(),
            (None, _) => {
                return self
                    .fail(
                        Fatal::MissingHeader,
                        "SUBSCRIBE needs an id header",
                        receipt,
                    )
                    .await;
            }
        };
        let destination = destination.to_owned();
        let audience = match parse_listen(&destination) {
            Some(Listen::Errors) => {
                self.error_queue = Some(id);
                return self.receipt(receipt).await;
            }
            Some(Listen::Audience(audience)) => audience,
            None => {
                let refusal = Refusal::new(
                    "unknown_destination",
                    format!("cannot subscribe to `{}`", quoted(&destination)),
                );
                return self.refuse(&refusal, Some(&destination), receipt).await;
            }
        };
        if self.subscriptions.contains_key(&id) {
            let refusal = Refusal::new(
                "duplicate_subscription",
                format!("subscription id `{}` is already in use", quoted(&id)),
            );
            return self.refuse(&refusal, Some(&destination), receipt).await;
        }
        if self.subscriptions.len() >= self.server.settings.max_subscriptions {
            let refusal = Refusal::new("too_many_subscriptions", "subscription limit reached");
            return self.refuse(&refusal, Some(&destination), receipt).await;
        }
        // Each SUBSCRIBE costs a directory lookup: it spends the user's allowance first.
        if let Err(limited) = self.server.chat.admit(user, RequestKind::Subscribe).await {
            return self
                .refuse(&Refusal::from(limited), Some(&destination), receipt)
                .await;
        }
        match self.server.chat.authorize_listen(user, audience).await {
            Ok(()) => {
                self.server.hub.subscribe(&self.mailbox, &id, audience);
                self.subscriptions.insert(id, audience);
                self.receipt(receipt).await
            }
            Err(error) => {
                self.refuse(&Refusal::from(error), Some(&destination), receipt)
                    .await
            }
        }
    }

    async fn unsubscribe(&mut self, frame: &Frame, receipt: Option<&str>) -> Flow {
        let Some(id) = frame.header("id").or_else(|| frame.header("destination")) else {
            return self
                .fail(
                    Fatal::MissingHeader,
                    "UNSUBSCRIBE needs an id header",
                    receipt,
                )
                .await;
        };
        if self.error_queue.as_deref() == Some(id) {
            self.error_queue = None;
        } else if let Some(audience) = self.subscriptions.remove(id) {
            self.server.hub.unsubscribe(self.mailbox.id, id, audience);
        }
        self.receipt(receipt).await
    }

    async fn send(&mut self, user: UserId, frame: &Frame, receipt: Option<&str>) -> Flow {
        let Some(destination) = frame.header("destination").map(str::to_owned) else {
            return self
                .fail(
                    Fatal::MissingHeader,
                    "SEND needs a destination header",
                    receipt,
                )
                .await;
        };
        let request = match parse_send(&destination) {
            SendTarget::Chat(kind, verb) => parse_request(kind, verb, user, &frame.body),
            SendTarget::Lobby(action) => parse_lobby_request(action, user, &frame.body),
            SendTarget::Broker => Err(Refusal::new(
                "forbidden_destination",
                format!(
                    "clients may not send to `{}`; use the /kafka/ destinations",
                    quoted(&destination)
                ),
            )),
            SendTarget::Unknown => Err(Refusal::new(
                "unknown_destination",
                format!("unknown destination `{}`", quoted(&destination)),
            )),
        };
        let outcome = match request {
            Ok(request) => self.execute(user, request).await,
            Err(refusal) => Err(refusal),
        };
        match outcome {
            Ok(()) => self.receipt(receipt).await,
            Err(refusal) => self.refuse(&refusal, Some(&destination), receipt).await,
        }
    }

    async fn execute(&self, user: UserId, request: Request) -> Result<(), Refusal> {
        let chat = &self.server.chat;
        chat.admit(user, RequestKind::Write)
            .await
            .map_err(Refusal::from)?;
        match request {
            Request::Post(cmd) => chat.post(cmd).await.map(drop).map_err(Refusal::from),
            Request::Reply(cmd) => chat.reply(cmd).await.map(drop).map_err(Refusal::from),
            Request::Edit(cmd) => chat.edit(cmd).await.map(drop).map_err(Refusal::from),
            Request::Delete(cmd) => chat.delete(cmd).await.map(drop).map_err(Refusal::from),
            Request::Typing(cmd) => chat.typing(cmd).await.map_err(Refusal::from),
            Request::ChangeLocation(user, to) => chat
                .change_location(user, to)
                .await
                .map(drop)
                .map_err(Refusal::from),
            Request::EnterVoice {
                user,
                community,
                channel,
            } => chat
                .enter_voice(user, community, channel)
                .await
                .map(drop)
                .map_err(Refusal::from),
        }
    }

    async fn disconnect(&mut self, receipt: Option<&str>) -> Flow {
        if let Some(open) = self.open.take()
            && let Err(error) = self.server.chat.disconnect(open.session).await
        {
            tracing::error!(?error, "session could not be closed");
        }
        self.receipt(receipt).await;
        self.close(Close::NORMAL, "bye").await;
        Flow::Stop
    }

    async fn receipt(&mut self, receipt: Option<&str>) -> Flow {
        match receipt {
            Some(id) => {
                let frame = Frame::new(Command::Receipt).with_header("receipt-id", id);
                self.write_frame(&frame).await
            }
            None => Flow::Continue,
        }
    }

    /// A refusal that keeps the session: logged (the session's first few), and sent
    /// to `/user/queue/errors` when the client subscribed to it. A session that
    /// provokes refusals faster than its budget allows is closed instead.
    async fn refuse(
        &mut self,
        refusal: &Refusal,
        destination: Option<&str>,
        receipt: Option<&str>,
    ) -> Flow {
        refusal.record();
        let verdict = self.refusals.spend();
        if verdict.log {
            let destination = destination.map(quoted);
            tracing::info!(code = refusal.code, message = %refusal.message, destination = destination.as_deref(), "request refused");
        }
        if verdict.exhausted {
            return self
                .fail(
                    Fatal::TooManyRefusals,
                    "too many refused requests in a short time",
                    receipt,
                )
                .await;
        }
        self.tell_error(refusal, destination, receipt).await
    }

    /// Sends `refusal` to the client's `/user/queue/errors`, if it subscribed to it.
    async fn tell_error(
        &mut self,
        refusal: &Refusal,
        destination: Option<&str>,
        receipt: Option<&str>,
    ) -> Flow {
        let Some(subscription) = self.error_queue.clone() else {
            return Flow::Continue;
        };
        self.sent_messages += 1;
        let body = refusal.to_json(destination, receipt);
        let frame = Frame::new(Command::Message)
            .with_header("destination", ERROR_QUEUE)
            .with_header("subscription", subscription)
            .with_header("message-id", format!("e-{}", self.sent_messages))
            .with_header("content-type", "application/json;charset=UTF-8")
            .with_header("content-length", body.len().to_string())
            .with_body(body);
        self.write_frame(&frame).await
    }

    /// A fatal error: an ERROR frame, then the socket closes.
    async fn fail(&mut self, fatal: Fatal, detail: &str, receipt: Option<&str>) -> Flow {
        let message = fatal.message();
        tracing::info!(message, detail, "closing session with ERROR");
        fatal.record();
        let mut frame = Frame::new(Command::Error)
            .with_header("message", message)
            .with_header("content-type", "text/plain");
        if let Some(id) = receipt {
            frame = frame.with_header("receipt-id", id);
        }
        let frame = frame
            .with_header("content-length", detail.len().to_string())
            .with_body(detail.to_owned());
        self.write_frame(&frame).await;
        self.close(Close::POLICY_VIOLATION, message).await;
        Flow::Stop
    }

    async fn deliver(&mut self, delivery: Delivery) -> Flow {
        self.sent_messages += 1;
        let frame = Frame::new(Command::Message)
            .with_header("destination", &*delivery.destination)
            .with_header("subscription", &*delivery.subscription)
            .with_header("message-id", self.sent_messages.to_string())
            // The seed sent its JSON as a Spring String payload, hence text/plain.
            .with_header("content-type", "text/plain;charset=UTF-8")
            .with_header("content-length", delivery.body.len().to_string())
            .with_body(delivery.body);
        self.write_frame(&frame).await
    }

    async fn write_frame(&mut self, frame: &Frame) -> Flow {
        let bytes = to_bytes(frame, self.version);
        self.write(bytes.to_vec(), frame.command.as_str()).await
    }

    /// Writes a frame (or a heart-beat), counted under `command` once sent. A
    /// client that does not take it in time (see [`StompServer::bounded`]) is
    /// stuck: the session ends without writing anything more.
    async fn write(&mut self, bytes: Vec<u8>, command: &'static str) -> Flow {
        if self.stuck {
            return Flow::Stop;
        }
        let server = self.server.clone();
        match server.bounded(self.out.send(bytes)).await {
            Some(Ok(())) => {
                self.last_sent = Instant::now();
                count_frame(metric::FRAMES_SENT, command);
                Flow::Continue
            }
            Some(Err(_closed)) => {
                tracing::debug!("transport closed; write failed");
                Flow::Stop
            }
            None => {
                self.stuck();
                Flow::Stop
            }
        }
    }

    /// Ends the transport, within the same bounds as a write; nothing is attempted
    /// on a client that is already stuck.
    async fn close(&mut self, code: u16, reason: &str) {
        if self.stuck {
            return;
        }
        let server = self.server.clone();
        if server
            .bounded(self.out.close(Close::new(code, reason)))
            .await
            .is_none()
        {
            self.stuck();
        }
    }

    fn stuck(&mut self) {
        tracing::info!("client did not take a write in time; ending its session");
        metrics::counter!(metric::WRITE_TIMEOUTS).increment(1);
        self.stuck = true;
    }

    fn reauthorize_interval(&self) -> Duration {
        Duration::from_millis(self.server.settings.reauthorize_interval_ms)
    }

    /// Authorises subscriptions again: all of them (`changed` is `None`), or those a
    /// change of these groups' member lists may affect (a community's change affects
    /// its channels, which only the directory knows). A subscription its user may
    /// no longer hear ends, with a `subscription_revoked` notice on the error queue;
    /// one the directory cannot vouch for right now is kept until the next check.
    async fn reauthorize(&mut self, changed: Option<&HashSet<Audience>>) -> Flow {
        let Some(user) = self.open.as_ref().map(|open| open.user) else {
            return Flow::Continue;
        };
        let community_changed = changed
            .is_some_and(|groups| groups.iter().any(|g| matches!(g, Audience::Community(_))));
        let due: Vec<(String, Audience)> = self
            .subscriptions
            .iter()
            .filter(|(_, audience)| {
                changed.is_none_or(|groups| {
                    groups.contains(audience)
                        || (community_changed && matches!(audience, Audience::Group(_)))
                })
            })
            .map(|(id, audience)| (id.clone(), *audience))
            .collect();
        for (id, audience) in due {
            let error = match self.server.chat.authorize_listen(user, audience).await {
                Ok(()) => continue,
                Err(ListenError::Unavailable(cause)) => {
                    tracing::warn!(error = ?cause, %audience, "subscription not authorised again; kept until the next check");
                    continue;
                }
                Err(error) => error,
            };
            if self.subscriptions.remove(&id).is_none() {
                continue;
            }
            self.server.hub.unsubscribe(self.mailbox.id, &id, audience);
            metrics::counter!(metric::SUBSCRIPTIONS_REVOKED).increment(1);
            tracing::info!(%audience, %error, "subscription revoked");
            let notice = Refusal::new(
                "subscription_revoked",
                format!("{error}; subscription `{}` ended", quoted(&id)),
            );
            notice.record();
            let destination = audience_destination(audience);
            if let Flow::Stop = self.tell_error(&notice, Some(&destination), None).await {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }
}

/// Counts one frame in `counter` (received or sent) under its `command` label.
fn count_frame(counter: &'static str, command: &'static str) {
    metrics::counter!(counter, metric::COMMAND => command).increment(1);
}

#[cfg(test)]
mod tests;

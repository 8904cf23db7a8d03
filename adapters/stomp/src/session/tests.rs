//! The session task against mocked driving ports and an in-memory transport, in paused
//! time: the bounds that keep a client from holding a task or a presence forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use application::ports::inbound::{
    Messaging, MockAccess, MockMessaging, MockNavigation, MockReading, MockSessions, RequestKind,
    VerifiedToken,
};
use application::usecases::{Connected, ListenError, Overloaded, RateLimited};
use domain::{
    Audience, ChatEvent, PresenceChange, PresenceStatus, RoomId, Session, SessionId, Timestamp,
    UserId, UserProfile,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::ChatPorts;
use crate::hub::SubscriptionHub;
use crate::server::StompServer;
use crate::settings::StompSettings;
use crate::transport::{Close, Inbound, InboundSource, OutboundSink, TransportClosed};
use application::ports::outbound::RoomBroadcaster as _;

mod pipelining;
mod room_allowance;

const ALICE: UserId = UserId::new(1);
const DM: Audience = Audience::Direct(RoomId::new(5));
/// How far from its due time a timer is looked for, in paused time.
const A_MOMENT: Duration = Duration::from_millis(200);

/// What the session wrote, and a switch that makes the client stop reading.
struct FakeOut {
    written: mpsc::UnboundedSender<Written>,
    stuck: Arc<AtomicBool>,
}

#[derive(Debug)]
enum Written {
    Frame(String),
    Close(Close),
}

impl OutboundSink for FakeOut {
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportClosed> {
        if self.stuck.load(Ordering::Acquire) {
            std::future::pending::<()>().await;
        }
        let text = String::from_utf8(frame).expect("UTF-8");
        self.written
            .send(Written::Frame(text))
            .map_err(|_| TransportClosed)
    }

    async fn close(&mut self, close: Close) {
        if self.stuck.load(Ordering::Acquire) {
            std::future::pending::<()>().await;
        }
        let _ = self.written.send(Written::Close(close));
    }
}

/// The client's bytes, and how many times the session read some.
struct FakeIn {
    messages: mpsc::UnboundedReceiver<Vec<u8>>,
    reads: Arc<AtomicUsize>,
}

impl InboundSource for FakeIn {
    async fn next(&mut self) -> Inbound {
        let message = self.messages.recv().await;
        self.reads.fetch_add(1, Ordering::AcqRel);
        message.map_or(Inbound::Closed, Inbound::Data)
    }
}

/// One running session and the client's side of it.
struct Client {
    server: Arc<StompServer>,
    hub: Arc<SubscriptionHub>,
    send: mpsc::UnboundedSender<Vec<u8>>,
    written: mpsc::UnboundedReceiver<Written>,
    stuck: Arc<AtomicBool>,
    reads: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// How often `disconnect` was called, shared with the mock.
#[derive(Clone, Default)]
struct Disconnects(Arc<AtomicUsize>);

impl Disconnects {
    fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

fn settings() -> StompSettings {
    StompSettings::default()
}

/// Every driving port a session calls, mocked: a call nobody expected fails the test.
#[derive(Default)]
struct MockChat {
    access: MockAccess,
    sessions: MockSessions,
    messaging: MockMessaging,
    navigation: MockNavigation,
    reading: MockReading,
}

impl MockChat {
    /// No expectations yet.
    fn new() -> Self {
        Self::default()
    }

    /// The ports a server is built over.
    fn into_ports(self) -> ChatPorts {
        ChatPorts {
            access: Arc::new(self.access),
            sessions: Arc::new(self.sessions),
            messaging: Arc::new(self.messaging),
            navigation: Arc::new(self.navigation),
            reading: Arc::new(self.reading),
        }
    }

    /// The ports a server is built over, with `messaging` instead of the mock.
    fn into_ports_with(self, messaging: Arc<dyn Messaging>) -> ChatPorts {
        ChatPorts {
            messaging,
            ..self.into_ports()
        }
    }
}

/// A chat that lets alice connect with a token valid for `valid_for` and counts
/// her disconnects.
fn chat(valid_for: Duration, disconnects: &Disconnects) -> MockChat {
    alice_connects(MockChat::new(), valid_for, disconnects)
}

/// `chat` with alice's expectations added after those it has (which match first).
fn alice_connects(mut chat: MockChat, valid_for: Duration, disconnects: &Disconnects) -> MockChat {
    chat.access.expect_authenticate().returning(|_| {
        Ok(VerifiedToken {
            user: ALICE,
            subject: "alice@example.com".into(),
            name: None,
            image: None,
            expires_at: Timestamp::from_unix_micros(i64::MAX),
        })
    });
    chat.sessions.expect_connect().returning(move |_| {
        Ok(Connected {
            session: Session {
                id: SessionId::parse("s-1").expect("id"),
                user: ALICE,
                opened_at: Timestamp::from_unix_micros(0),
            },
            profile: UserProfile {
                id: ALICE,
                name: "alice".into(),
                image: None,
            },
            token_valid_for: valid_for,
        })
    });
    let counter = disconnects.0.clone();
    chat.sessions.expect_disconnect().returning(move |_| {
        counter.fetch_add(1, Ordering::AcqRel);
        Ok(true)
    });
    chat.access.expect_admit().returning(|_, _| Ok(()));
    chat.access.expect_pace_publish().returning(|_| Ok(()));
    chat.access.expect_admit_room().returning(|_, _| Ok(()));
    chat
}

fn start(chat: MockChat, settings: StompSettings) -> Client {
    let hub = SubscriptionHub::new(settings.outbound_limits());
    start_on(Arc::new(hub), chat, settings)
}

/// `start` on a hub the test holds already (e.g. for a mock to deliver through).
fn start_on(hub: Arc<SubscriptionHub>, chat: MockChat, settings: StompSettings) -> Client {
    start_with(hub, chat.into_ports(), settings)
}

/// `start` over ports a test assembled itself.
fn start_over(ports: ChatPorts, settings: StompSettings) -> Client {
    let hub = SubscriptionHub::new(settings.outbound_limits());
    start_with(Arc::new(hub), ports, settings)
}

fn start_with(hub: Arc<SubscriptionHub>, ports: ChatPorts, settings: StompSettings) -> Client {
    let server = StompServer::new(ports, hub.clone(), settings, CancellationToken::new());
    let (send, inbound) = mpsc::unbounded_channel();
    let (written_tx, written) = mpsc::unbounded_channel();
    let stuck = Arc::new(AtomicBool::new(false));
    let out = FakeOut {
        written: written_tx,
        stuck: stuck.clone(),
    };
    let permit = server.caps.admit_socket(None).expect("admitted");
    // What a WebSocket offers: the heart-beats of `settings`.
    let offer = server.websocket_offer();
    let reads = Arc::new(AtomicUsize::new(0));
    let inbound = FakeIn {
        messages: inbound,
        reads: reads.clone(),
    };
    let task = tokio::spawn(server.clone().run_session(out, inbound, offer, permit));
    Client {
        server,
        hub,
        send,
        written,
        stuck,
        reads,
        task,
    }
}

impl Client {
    fn frame(&self, command: &str, headers: &[(&str, &str)]) {
        let mut text = format!("{command}\n");
        for (name, value) in headers {
            text.push_str(name);
            text.push(':');
            text.push_str(value);
            text.push('\n');
        }
        text.push_str("\n{}\0");
        self.raw(text.as_bytes());
    }

    /// Bytes as the client sends them: part of a frame, several, or heart-beats.
    fn raw(&self, bytes: &[u8]) {
        self.send.send(bytes.to_vec()).expect("session reads");
    }

    /// The next frame written, as text.
    async fn next(&mut self) -> String {
        match self
            .written
            .recv()
            .await
            .expect("the session wrote something")
        {
            Written::Frame(text) => text,
            Written::Close(close) => panic!("closed: {close:?}"),
        }
    }

    /// Asserts that the next thing the session does is closing the transport, after
    /// which it writes nothing more.
    async fn closed(&mut self) -> Close {
        let close = match self
            .written
            .recv()
            .await
            .expect("the session closed the transport")
        {
            Written::Close(close) => close,
            Written::Frame(text) => panic!("a frame instead of the close: {text:?}"),
        };
        assert!(
            self.written.recv().await.is_none(),
            "nothing is written after the close"
        );
        close
    }

    /// Asserts that the session writes nothing for `period` (of paused time).
    async fn writes_nothing_for(&mut self, period: Duration) {
        if let Ok(written) = tokio::time::timeout(period, self.written.recv()).await {
            panic!("written within {period:?}: {written:?}");
        }
    }

    /// Asserts that the session writes nothing until just before `due` from now and
    /// that its next frame comes then; that frame.
    async fn next_due_in(&mut self, due: Duration) -> String {
        self.writes_nothing_for(due.saturating_sub(A_MOMENT)).await;
        tokio::time::timeout(2 * A_MOMENT, self.next())
            .await
            .unwrap_or_else(|_| panic!("nothing written when {due:?} was up"))
    }

    async fn connect(&mut self) {
        self.frame(
            "CONNECT",
            &[("accept-version", "1.2"), ("access-token", "t")],
        );
        assert!(self.next().await.starts_with("CONNECTED"));
    }

    /// CONNECTs offering `heart_beat` (`cx,cy`); the CONNECTED frame.
    async fn connect_with_heart_beat(&mut self, heart_beat: &str) -> String {
        self.frame(
            "CONNECT",
            &[
                ("accept-version", "1.2"),
                ("access-token", "t"),
                ("heart-beat", heart_beat),
            ],
        );
        let connected = self.next().await;
        assert!(connected.starts_with("CONNECTED\n"), "{connected}");
        connected
    }

    async fn subscribe(&mut self, id: &str, destination: &str) -> String {
        self.frame(
            "SUBSCRIBE",
            &[("id", id), ("destination", destination), ("receipt", id)],
        );
        self.next().await
    }

    async fn ended(self) {
        self.task.await.expect("the session task ended cleanly");
    }
}

mod resume;

#[tokio::test(start_paused = true)]
async fn a_client_that_reads_nothing_is_disconnected_after_the_write_timeout() {
    let disconnects = Disconnects::default();
    let mut client = start(chat(Duration::from_secs(3600), &disconnects), settings());
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    client.stuck.store(true, Ordering::Release);
    client.frame("SEND", &[("destination", "/nowhere")]);
    client.ended().await;

    assert_eq!(disconnects.count(), 1, "the user's session is closed");
}

#[tokio::test(start_paused = true)]
async fn shutdown_gives_up_a_stuck_write_and_still_closes_the_session() {
    let disconnects = Disconnects::default();
    let mut long = settings();
    long.write_timeout_ms = 24 * 3600 * 1000;
    let mut client = start(chat(Duration::from_secs(3600 * 48), &disconnects), long);
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;
    client.stuck.store(true, Ordering::Release);
    client.frame("SEND", &[("destination", "/nowhere")]);
    tokio::task::yield_now().await;

    client.server.shutdown.cancel();
    let started = tokio::time::Instant::now();
    let server = client.server.clone();
    client.ended().await;

    assert_eq!(disconnects.count(), 1, "the user's session is closed");
    assert!(
        started.elapsed() < server.write_timeout(),
        "shutdown did not wait for the write timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn a_session_ends_with_token_expired_when_its_token_expires() {
    let disconnects = Disconnects::default();
    let mut client = start(chat(Duration::from_secs(90), &disconnects), settings());
    client.connect().await;

    let error = client.next().await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nmessage:token expired\n"), "{error}");
    client.ended().await;
    assert_eq!(disconnects.count(), 1);
}

/// A chat where alice is a member of [`DM`] while `member` holds.
fn chat_with_membership(member: &Arc<AtomicBool>, disconnects: &Disconnects) -> MockChat {
    let mut chat = chat(Duration::from_secs(3600 * 48), disconnects);
    let member = member.clone();
    chat.access
        .expect_authorize_listen()
        .returning(move |_, audience| {
            if member.load(Ordering::Acquire) {
                Ok(())
            } else {
                Err(ListenError::Forbidden(audience))
            }
        });
    chat
}

#[tokio::test(start_paused = true)]
async fn a_member_list_change_here_revokes_the_subscription_of_a_removed_member_at_once() {
    let member = Arc::new(AtomicBool::new(true));
    let disconnects = Disconnects::default();
    let mut never = settings();
    never.reauthorize_interval_ms = 0;
    let mut client = start(chat_with_membership(&member, &disconnects), never);
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;
    assert!(
        client
            .subscribe("room", "/topic/direct/5")
            .await
            .starts_with("RECEIPT")
    );

    member.store(false, Ordering::Release);
    client.hub.membership_changed(DM);
    let notice = client.next().await;

    assert!(notice.starts_with("MESSAGE\n"), "{notice}");
    assert!(
        notice.contains("\"code\":\"subscription_revoked\""),
        "{notice}"
    );
    assert!(
        notice.contains("\"destination\":\"/topic/direct/5\""),
        "{notice}"
    );
    assert_eq!(
        client.hub.subscription_count(),
        0,
        "nothing more is delivered"
    );
    assert_eq!(disconnects.count(), 0, "the session itself goes on");
}

#[tokio::test(start_paused = true)]
async fn subscriptions_are_authorised_again_periodically() {
    let member = Arc::new(AtomicBool::new(true));
    let disconnects = Disconnects::default();
    let mut client = start(chat_with_membership(&member, &disconnects), settings());
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;
    client.subscribe("room", "/topic/direct/5").await;

    // Removed on another instance: nothing tells this one but the periodic check.
    member.store(false, Ordering::Release);
    let notice = client.next().await;

    assert!(
        notice.contains("\"code\":\"subscription_revoked\""),
        "{notice}"
    );
    assert_eq!(client.hub.subscription_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_subscribe_over_the_allowance_is_refused_without_a_directory_lookup() {
    let disconnects = Disconnects::default();
    let mut chat = MockChat::new();
    chat.access
        .expect_admit()
        .withf(|_, kind| *kind == RequestKind::Subscribe)
        .times(1)
        .returning(|_, _| {
            Err(RateLimited {
                retry_after: Duration::from_secs(1),
            })
        });
    chat.access.expect_authorize_listen().never();
    let mut client = start(
        alice_connects(chat, Duration::from_secs(3600), &disconnects),
        settings(),
    );
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    let refusal = client.subscribe("room", "/topic/direct/5").await;

    assert!(refusal.contains("\"code\":\"rate_limited\""), "{refusal}");
}

#[tokio::test(start_paused = true)]
async fn a_session_that_keeps_provoking_refusals_is_closed_with_an_error() {
    let disconnects = Disconnects::default();
    let mut strict = settings();
    strict.refusal_burst = 3;
    let mut client = start(chat(Duration::from_secs(3600), &disconnects), strict);
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    for _ in 0..3 {
        client.frame("SEND", &[("destination", "/nowhere")]);
        assert!(client.next().await.contains("unknown_destination"));
    }
    client.frame("SEND", &[("destination", "/nowhere")]);
    let error = client.next().await;

    assert!(error.contains("\nmessage:too many refusals\n"), "{error}");
    client.ended().await;
    assert_eq!(disconnects.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_send_to_a_room_whose_delivery_stays_behind_is_refused_as_overloaded_and_the_session_stays()
 {
    let disconnects = Disconnects::default();
    let mut chat = MockChat::new();
    chat.access.expect_admit().returning(|_, _| Ok(()));
    chat.access
        .expect_pace_publish()
        .withf(|room| *room == domain::RoomRef::Direct(RoomId::new(5)))
        .returning(|_| {
            Err(Overloaded {
                retry_after: Duration::from_secs(2),
            })
        });
    chat.messaging.expect_post().never();
    let mut strict = settings();
    strict.refusal_burst = 1;
    let mut client = start(
        alice_connects(chat, Duration::from_secs(3600), &disconnects),
        strict,
    );
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    // More refusals than the budget allows: the server's load is not the client's fault.
    for n in 0..3 {
        client.raw(
            format!("SEND\ndestination:/kafka/send-direct-message\nreceipt:r-{n}\n\n{{\"content\":\"hi\",\"channelId\":\"5\"}}\0")
                .as_bytes(),
        );
        let refusal = client.next().await;
        assert!(refusal.contains("\"code\":\"overloaded\""), "{refusal}");
        assert!(
            refusal.contains(&format!("\"receipt-id\":\"r-{n}\"")),
            "{refusal}"
        );
    }
    client.writes_nothing_for(Duration::from_secs(1)).await;
    assert_eq!(disconnects.count(), 0, "the session stays open");
}

#[tokio::test(start_paused = true)]
async fn a_user_over_the_session_cap_is_refused_before_a_session_opens() {
    let disconnects = Disconnects::default();
    let mut chat = MockChat::new();
    chat.sessions.expect_connect().never();
    let mut one = settings();
    one.max_connections_per_user = 1;
    let mut client = start(
        alice_connects(chat, Duration::from_secs(3600), &disconnects),
        one,
    );
    let _first = client
        .server
        .caps
        .admit_user(ALICE)
        .expect("alice's first session");

    client.frame(
        "CONNECT",
        &[("accept-version", "1.2"), ("access-token", "t")],
    );
    let error = client.next().await;

    assert!(
        error.contains("\nmessage:too many connections\n"),
        "{error}"
    );
    client.ended().await;
    assert_eq!(disconnects.count(), 0, "no session was opened");
}

/// Settings where the server offers heart-beats every `send_ms` and wants the
/// client's every `receive_ms` (0: not at all).
fn heart_beats(send_ms: u64, receive_ms: u64) -> StompSettings {
    let mut settings = settings();
    settings.heartbeat_send_ms = send_ms;
    settings.heartbeat_receive_ms = receive_ms;
    settings
}

#[tokio::test(start_paused = true)]
async fn the_server_sends_heart_beats_at_the_negotiated_interval() {
    let disconnects = Disconnects::default();
    let mut client = start(
        chat(Duration::from_secs(3600), &disconnects),
        heart_beats(10_000, 0),
    );
    // The client can take one every 15 s: slower than the server's 10 s, so 15 s wins.
    let connected = client.connect_with_heart_beat("0,15000").await;
    assert!(connected.contains("\nheart-beat:15000,0\n"), "{connected}");

    for _ in 0..2 {
        let beat = client.next_due_in(Duration::from_secs(15)).await;
        assert_eq!(beat, "\n");
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_silent_for_twice_its_heart_beat_interval_is_closed_with_heart_beat_timeout() {
    let disconnects = Disconnects::default();
    let mut client = start(
        chat(Duration::from_secs(3600), &disconnects),
        heart_beats(0, 10_000),
    );
    let connected = client.connect_with_heart_beat("4000,0").await;
    assert!(connected.contains("\nheart-beat:0,10000\n"), "{connected}");

    // One missed heart-beat is tolerated: the grace is a second interval.
    let error = client.next_due_in(Duration::from_secs(20)).await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nmessage:heart-beat timeout\n"), "{error}");
    client.closed().await;
    client.ended().await;
    assert_eq!(disconnects.count(), 1, "the user's session is closed");
}

#[tokio::test(start_paused = true)]
async fn a_client_heart_beating_within_twice_its_interval_stays_connected() {
    let disconnects = Disconnects::default();
    let mut client = start(
        chat(Duration::from_secs(3600), &disconnects),
        heart_beats(0, 10_000),
    );
    client.connect_with_heart_beat("10000,0").await;

    // Late beats, yet each within the grace: a minute in all.
    for _ in 0..4 {
        client.writes_nothing_for(Duration::from_secs(15)).await;
        client.raw(b"\n");
    }

    assert_eq!(disconnects.count(), 0);
    let error = client.next_due_in(Duration::from_secs(20)).await;
    assert!(error.contains("\nmessage:heart-beat timeout\n"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_socket_that_never_sends_connect_is_closed_after_the_connect_timeout() {
    let mut quick = settings();
    quick.connect_timeout_ms = 5_000;
    // No session may open: any call to the chat fails the test.
    let mut client = start(MockChat::new(), quick);

    let error = client.next_due_in(Duration::from_secs(5)).await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nmessage:connect timeout\n"), "{error}");
    let close = client.closed().await;
    assert_eq!(close.code, Close::POLICY_VIOLATION);
    client.ended().await;
}

#[tokio::test(start_paused = true)]
async fn a_client_whose_queue_keeps_overflowing_is_closed_with_slow_consumer() {
    let member = Arc::new(AtomicBool::new(true));
    let disconnects = Disconnects::default();
    let mut tiny = settings();
    tiny.outbound_queue = 1;
    tiny.slow_consumer_ms = 0;
    let mut client = start(chat_with_membership(&member, &disconnects), tiny);
    client.connect().await;
    client.subscribe("room", "/topic/direct/5").await;

    // Three events before the session can take the first: the second and third find the
    // queue full, and it has been overflowing as long as allowed (no time at all).
    let online = ChatEvent::Presence(PresenceChange {
        user: UserId::new(2),
        status: PresenceStatus::Online,
        audiences: vec![DM],
    });
    for _ in 0..3 {
        client.hub.deliver(&[DM], &online);
    }
    let error = client.next().await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nmessage:slow consumer\n"), "{error}");
    client.closed().await;
    let hub = client.hub.clone();
    client.ended().await;
    assert_eq!(disconnects.count(), 1, "the user's session is closed");
    assert_eq!(hub.subscription_count(), 0, "nothing more is queued for it");
}

#[tokio::test(start_paused = true)]
async fn a_fatal_error_writes_its_error_frame_and_then_closes_the_transport() {
    // No session may open: any call to the chat fails the test.
    let mut client = start(MockChat::new(), settings());

    client.frame("SEND", &[("destination", "/nowhere"), ("receipt", "r-1")]);
    let error = client.next().await;
    let close = client.closed().await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nmessage:not connected\n"), "{error}");
    assert!(error.contains("\nreceipt-id:r-1\n"), "{error}");
    assert_eq!(
        close,
        Close::new(Close::POLICY_VIOLATION, "not connected"),
        "the close says why too"
    );
    client.ended().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_frame_gets_an_error_naming_the_fault_and_then_the_close() {
    let disconnects = Disconnects::default();
    let mut client = start(chat(Duration::from_secs(3600), &disconnects), settings());
    client.connect().await;

    client.raw(b"SEND\ndestination\n\n\0");
    let error = client.next().await;
    let close = client.closed().await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nmessage:malformed frame\n"), "{error}");
    assert!(
        error.ends_with("header line has no ':' separator\0"),
        "{error}"
    );
    assert_eq!(close.code, Close::POLICY_VIOLATION);
    client.ended().await;
    assert_eq!(disconnects.count(), 1, "the user's session is closed");
}

#[tokio::test(start_paused = true)]
async fn an_unsupported_version_gets_an_error_listing_ours_and_then_a_protocol_error_close() {
    // No session may open: any call to the chat fails the test.
    let mut client = start(MockChat::new(), settings());

    client.frame(
        "CONNECT",
        &[("accept-version", "2.0"), ("access-token", "t")],
    );
    let error = client.next().await;
    let close = client.closed().await;

    assert!(error.starts_with("ERROR\n"), "{error}");
    assert!(error.contains("\nversion:1.0,1.1,1.2\n"), "{error}");
    assert_eq!(close.code, Close::PROTOCOL_ERROR);
    client.ended().await;
}

//! SENDs running beside the session's loop, against a messaging port that holds each post
//! where the test says: the connection keeps living, answers come in the order sent, and
//! beyond the bound the socket is not read.

use std::collections::HashMap;
use std::sync::Mutex;

use application::ports::inbound::SendTurn;
use application::usecases::{
    DeleteCommand, DeleteMessageError, EditCommand, EditMessageError, PostCommand, PostError,
    ReplyCommand, ReplyToMessageError, TypingCommand, TypingError,
};
use domain::{Message, MessageBody, MessageId, NewMessage, Seq};
use tokio::sync::Semaphore;

use super::*;

/// A messaging port whose posts are held where the test says. A post waits for its turn,
/// then for its store gate (`store <text>`), is recorded as stored, passes its turn, then
/// waits for its publish gate (`publish <text>`) and is recorded as finished.
#[derive(Default)]
struct SlowMessaging {
    gates: Mutex<HashMap<String, Arc<Semaphore>>>,
    started: AtomicUsize,
    stored: Mutex<Vec<String>>,
    finished: Mutex<Vec<String>>,
}

impl SlowMessaging {
    fn gate(&self, name: &str) -> Arc<Semaphore> {
        self.gates
            .lock()
            .expect("gates")
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(0)))
            .clone()
    }

    /// Lets the post held at gate `name` go on (also before it gets there).
    fn open(&self, name: &str) {
        self.gate(name).add_permits(1);
    }

    /// Lets the post of `text` run to its end.
    fn release(&self, text: &str) {
        self.open(&format!("store {text}"));
        self.open(&format!("publish {text}"));
    }

    async fn pass(&self, name: &str) {
        self.gate(name).acquire().await.expect("gate").forget();
    }

    fn started(&self) -> usize {
        self.started.load(Ordering::Acquire)
    }

    fn stored(&self) -> Vec<String> {
        self.stored.lock().expect("stored").clone()
    }

    fn finished(&self) -> Vec<String> {
        self.finished.lock().expect("finished").clone()
    }
}

#[async_trait::async_trait]
impl Messaging for SlowMessaging {
    async fn post(&self, cmd: PostCommand, mut turn: SendTurn) -> Result<Message, PostError> {
        self.started.fetch_add(1, Ordering::AcqRel);
        turn.wait().await;
        self.pass(&format!("store {}", cmd.body)).await;
        let seq = {
            let mut stored = self.stored.lock().expect("stored");
            stored.push(cmd.body.clone());
            stored.len()
        };
        turn.pass();
        self.pass(&format!("publish {}", cmd.body)).await;
        self.finished
            .lock()
            .expect("finished")
            .push(cmd.body.clone());
        Ok(NewMessage {
            id: MessageId::parse(&format!("m{seq}")).expect("id"),
            room: cmd.room,
            author: UserProfile {
                id: cmd.author,
                name: "alice".into(),
                image: None,
            },
            body: MessageBody::parse(&cmd.body).expect("body"),
            parent: None,
            attachment: None,
            sent_at: Timestamp::from_unix_micros(0),
            client_msg_id: None,
        }
        .stored_at(Seq::new(seq as u64)))
    }

    async fn reply(&self, _: ReplyCommand, _: SendTurn) -> Result<Message, ReplyToMessageError> {
        panic!("no reply expected")
    }

    async fn edit(&self, _: EditCommand, _: SendTurn) -> Result<Message, EditMessageError> {
        panic!("no edit expected")
    }

    async fn delete(&self, _: DeleteCommand, _: SendTurn) -> Result<Message, DeleteMessageError> {
        panic!("no delete expected")
    }

    async fn typing(&self, _: TypingCommand) -> Result<(), TypingError> {
        panic!("no typing expected")
    }
}

/// A SEND posting `text` to [`DM`] and asking for receipt `receipt`.
fn post_frame(text: &str, receipt: &str) -> String {
    format!(
        "SEND\ndestination:/kafka/send-direct-message\nreceipt:{receipt}\n\n{{\"content\":\"{text}\",\"channelId\":\"5\"}}\0"
    )
}

/// Alice's session over `slow`, where she is a member of [`DM`].
fn start_slow(slow: &Arc<SlowMessaging>, settings: StompSettings) -> (Client, Disconnects) {
    let disconnects = Disconnects::default();
    let member = Arc::new(AtomicBool::new(true));
    let ports = chat_with_membership(&member, &disconnects).into_ports_with(slow.clone());
    (start_over(ports, settings), disconnects)
}

impl Client {
    fn post(&self, text: &str, receipt: &str) {
        self.raw(post_frame(text, receipt).as_bytes());
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::Acquire)
    }

    /// The next frame, asserted to be the RECEIPT `receipt`.
    async fn receipt(&mut self, receipt: &str) -> String {
        let frame = self.next().await;
        assert!(frame.starts_with("RECEIPT\n"), "{frame}");
        assert!(
            frame.contains(&format!("\nreceipt-id:{receipt}\n")),
            "{frame}"
        );
        frame
    }

    /// Lets every task run until none can go on (in paused time), asserting nothing was written.
    async fn idle(&mut self) {
        self.writes_nothing_for(Duration::from_secs(1)).await;
    }
}

fn someone_online() -> ChatEvent {
    ChatEvent::Presence(PresenceChange {
        user: UserId::new(2),
        status: PresenceStatus::Online,
        audiences: vec![DM],
    })
}

#[tokio::test(start_paused = true)]
async fn a_connection_whose_send_is_held_in_a_slow_store_keeps_getting_its_events() {
    let slow = Arc::new(SlowMessaging::default());
    let mut tiny = settings();
    tiny.outbound_queue = 2;
    let (mut client, disconnects) = start_slow(&slow, tiny);
    client.connect().await;
    client.subscribe("room", "/topic/direct/5").await;

    client.post("held", "r-1");
    // Ten times the queue: had the session waited for the store, the queue would overflow.
    for _ in 0..20 {
        client.hub.deliver(&[DM], &someone_online());
        let event = client.next().await;
        assert!(event.starts_with("MESSAGE\n"), "{event}");
    }
    assert_eq!(slow.started(), 1);
    assert!(slow.stored().is_empty(), "the post is still held");
    slow.release("held");

    let receipt = client.receipt("r-1").await;
    assert!(receipt.contains("\nmessage-id:m1\n"), "{receipt}");
    assert_eq!(disconnects.count(), 0, "never disconnected");
}

#[tokio::test(start_paused = true)]
async fn heart_beats_keep_flowing_while_a_send_is_held() {
    let slow = Arc::new(SlowMessaging::default());
    let (mut client, disconnects) = start_slow(&slow, heart_beats(10_000, 0));
    client.connect_with_heart_beat("0,10000").await;

    client.post("held", "r-1");

    for _ in 0..3 {
        assert_eq!(client.next_due_in(Duration::from_secs(10)).await, "\n");
    }
    assert!(slow.finished().is_empty(), "the post is still held");
    slow.release("held");
    client.receipt("r-1").await;
    assert_eq!(disconnects.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn receipts_come_in_send_order_even_when_a_later_send_finishes_first() {
    let slow = Arc::new(SlowMessaging::default());
    let (mut client, _disconnects) = start_slow(&slow, settings());
    client.connect().await;

    client.post("first", "r-1");
    client.post("second", "r-2");
    slow.open("store first");
    slow.release("second");
    client.idle().await;
    assert_eq!(slow.finished(), ["second"], "the second is done first");

    slow.open("publish first");

    client.receipt("r-1").await;
    client.receipt("r-2").await;
}

#[tokio::test(start_paused = true)]
async fn a_connections_posts_are_stored_in_the_order_sent_even_when_a_later_one_is_ready_first() {
    let slow = Arc::new(SlowMessaging::default());
    let (mut client, _disconnects) = start_slow(&slow, settings());
    client.connect().await;

    client.post("first", "r-1");
    client.post("second", "r-2");
    slow.release("second");
    client.idle().await;
    assert_eq!(slow.started(), 2, "both run");
    assert!(
        slow.stored().is_empty(),
        "the second waits for the first's turn"
    );

    slow.release("first");

    client.receipt("r-1").await;
    client.receipt("r-2").await;
    assert_eq!(slow.stored(), ["first", "second"]);
}

#[tokio::test(start_paused = true)]
async fn beyond_the_bound_of_sends_in_flight_the_socket_is_not_read() {
    let slow = Arc::new(SlowMessaging::default());
    let mut two = settings();
    two.max_sends_in_flight = 2;
    let (mut client, _disconnects) = start_slow(&slow, two);
    client.connect().await;

    // Three SENDs in one message, then a fourth in the next.
    let three = ["a", "b", "c"].map(|text| post_frame(text, &format!("r-{text}")));
    client.raw(three.concat().as_bytes());
    client.idle().await;
    let read = client.reads();
    client.post("d", "r-d");
    client.idle().await;
    assert_eq!(slow.started(), 2, "the third waits, read but not started");
    assert_eq!(client.reads(), read, "the fourth is not read");

    slow.release("a");
    client.receipt("r-a").await;
    client.idle().await;
    assert_eq!(slow.started(), 3, "the third takes the place freed");
    assert_eq!(client.reads(), read, "still full: the fourth is not read");

    slow.release("b");
    client.receipt("r-b").await;
    client.idle().await;
    assert_eq!(slow.started(), 4);
    assert_eq!(client.reads(), read + 1);

    slow.release("c");
    slow.release("d");
    client.receipt("r-c").await;
    client.receipt("r-d").await;
}

#[tokio::test(start_paused = true)]
async fn a_fatal_error_answers_the_sends_received_before_it_then_closes() {
    let slow = Arc::new(SlowMessaging::default());
    let (mut client, disconnects) = start_slow(&slow, settings());
    client.connect().await;

    client.post("held", "r-1");
    client.raw(b"SEND\ndestination\n\n\0");
    client.idle().await;
    slow.release("held");

    client.receipt("r-1").await;
    let error = client.next().await;
    assert!(error.contains("\nmessage:malformed frame\n"), "{error}");
    client.closed().await;
    client.ended().await;
    assert_eq!(disconnects.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_receipt_of_a_disconnect_comes_after_those_of_the_sends_before_it() {
    let slow = Arc::new(SlowMessaging::default());
    let (mut client, disconnects) = start_slow(&slow, settings());
    client.connect().await;

    client.post("held", "r-1");
    client.frame("DISCONNECT", &[("receipt", "bye")]);
    client.idle().await;
    slow.release("held");

    client.receipt("r-1").await;
    client.receipt("bye").await;
    client.closed().await;
    client.ended().await;
    assert_eq!(disconnects.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_client_is_not_timed_out_for_silence_while_the_server_does_not_read_it() {
    let slow = Arc::new(SlowMessaging::default());
    let mut one = heart_beats(0, 10_000);
    one.max_sends_in_flight = 1;
    let (mut client, disconnects) = start_slow(&slow, one);
    client.connect_with_heart_beat("10000,0").await;

    client.post("held", "r-1");
    // Far beyond twice the heart-beat interval, but the server is not reading.
    client.writes_nothing_for(Duration::from_secs(60)).await;
    slow.release("held");
    client.receipt("r-1").await;
    assert_eq!(disconnects.count(), 0);

    // Reading again: the silence counts from the moment the server reads.
    let error = client.next_due_in(Duration::from_secs(20)).await;
    assert!(error.contains("\nmessage:heart-beat timeout\n"), "{error}");
}

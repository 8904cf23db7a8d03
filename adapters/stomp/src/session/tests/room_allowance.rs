//! A SEND that changes a room's messages spends the room's allowance as well as the user's;
//! over it, the client is told `rate_limited` and the chat is never asked.

use domain::RoomRef;

use super::*;

/// The room every SEND here names (DM room 5).
const ROOM: RoomRef = RoomRef::Direct(RoomId::new(5));

/// Alice's session, whose every room write is over the room's allowance.
fn room_over_its_allowance(disconnects: &Disconnects) -> MockChat {
    let mut chat = MockChat::new();
    chat.access
        .expect_admit_room()
        .withf(|user, room| *user == ALICE && *room == ROOM)
        .returning(|_, _| {
            Err(RateLimited {
                retry_after: Duration::from_millis(300),
            })
        });
    alice_connects(chat, Duration::from_secs(3600), disconnects)
}

impl Client {
    /// SENDs `body` to `destination` asking for receipt `r1`.
    fn send_body(&self, destination: &str, body: &str) {
        self.raw(format!("SEND\ndestination:{destination}\nreceipt:r1\n\n{body}\0").as_bytes());
    }
}

#[tokio::test(start_paused = true)]
async fn a_post_over_the_room_allowance_is_refused_rate_limited_before_it_is_posted() {
    let disconnects = Disconnects::default();
    let mut chat = room_over_its_allowance(&disconnects);
    chat.messaging.expect_post().never();
    let mut client = start(chat, settings());
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    client.send_body(
        "/kafka/send-direct-message",
        r#"{"content":"hi","channelId":"5"}"#,
    );
    let refusal = client.next().await;

    assert!(refusal.contains("\"code\":\"rate_limited\""), "{refusal}");
    assert!(refusal.contains("\"receipt-id\":\"r1\""), "{refusal}");
}

#[tokio::test(start_paused = true)]
async fn a_delete_spends_the_room_allowance_too() {
    let disconnects = Disconnects::default();
    let mut chat = room_over_its_allowance(&disconnects);
    chat.messaging.expect_delete().never();
    let mut client = start(chat, settings());
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    client.send_body(
        "/kafka/send-direct-delete",
        r#"{"id":"000000000000000000000042","channelId":"5"}"#,
    );
    let refusal = client.next().await;

    assert!(refusal.contains("\"code\":\"rate_limited\""), "{refusal}");
}

#[tokio::test(start_paused = true)]
async fn typing_does_not_spend_the_room_allowance() {
    let disconnects = Disconnects::default();
    let mut chat = MockChat::new();
    chat.access.expect_admit_room().never();
    chat.messaging
        .expect_typing()
        .times(1)
        .returning(|_| Ok(()));
    let chat = alice_connects(chat, Duration::from_secs(3600), &disconnects);
    let mut client = start(chat, settings());
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    client.send_body("/kafka/send-direct-typing", r#"{"channelId":"5"}"#);
    let receipt = client.next().await;

    assert!(receipt.starts_with("RECEIPT\n"), "{receipt}");
}

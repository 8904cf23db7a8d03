//! SUBSCRIBE with `x-since-seq`: the replay, the gap, and the seam with live events
//! delivered while the replay is read.

use application::usecases::{Replay, ReplayCommand};
use domain::{MessageBody, MessageId, NewMessage, RoomKey, RoomRef, Seq};

use super::*;

fn posted(seq: u64) -> ChatEvent {
    ChatEvent::Posted(
        NewMessage {
            id: MessageId::parse(&format!("m{seq}")).expect("id"),
            room: RoomRef::Direct(RoomId::new(5)),
            author: UserProfile::anonymous(ALICE),
            body: MessageBody::parse(&format!("text {seq}")).expect("body"),
            parent: None,
            attachment: None,
            sent_at: Timestamp::from_unix_micros(0),
            client_msg_id: None,
        }
        .stored_at(Seq::new(seq)),
    )
}

/// Alice may listen to the DM; her replay is `replay`, during which `live` events are
/// delivered through the hub (as if posted meanwhile).
fn resuming(
    hub: &Arc<SubscriptionHub>,
    replay: Replay,
    live: Vec<ChatEvent>,
    disconnects: &Disconnects,
) -> MockChat {
    let mut chat = chat(Duration::from_secs(3600), disconnects);
    chat.access
        .expect_authorize_listen()
        .returning(|_, _| Ok(()));
    let hub = hub.clone();
    chat.reading
        .expect_replay()
        .withf(|cmd: &ReplayCommand| {
            cmd.reader == ALICE
                && cmd.room == RoomKey::Direct(RoomId::new(5))
                && cmd.seen == Seq::new(2)
                && cmd.limit == 500
        })
        .times(1)
        .returning(move |_| {
            for event in &live {
                hub.deliver(&[DM], event);
            }
            Ok(replay.clone())
        });
    chat
}

/// The JSON body of a MESSAGE frame.
fn body(frame: &str) -> serde_json::Value {
    assert!(frame.starts_with("MESSAGE\n"), "{frame}");
    let (_, body) = frame.split_once("\n\n").expect("body");
    serde_json::from_str(body.trim_end_matches('\0')).expect("json")
}

impl Client {
    fn resume(&self, since: &str) {
        self.frame(
            "SUBSCRIBE",
            &[
                ("id", "dm"),
                ("destination", "/topic/direct/5"),
                ("x-since-seq", since),
                ("receipt", "r"),
            ],
        );
    }

    /// The `seq` of each of the next MESSAGE frames up to the RECEIPT, then of the
    /// `after` frames that follow it.
    async fn seqs_around_receipt(&mut self, after: usize) -> (Vec<u64>, Vec<u64>) {
        let mut before = Vec::new();
        loop {
            let frame = self.next().await;
            if frame.starts_with("RECEIPT") {
                break;
            }
            before.push(body(&frame)["seq"].as_u64().expect("seq"));
        }
        let mut later = Vec::new();
        for _ in 0..after {
            later.push(body(&self.next().await)["seq"].as_u64().expect("seq"));
        }
        (before, later)
    }
}

#[tokio::test(start_paused = true)]
async fn a_resumed_subscription_gets_what_it_missed_then_live_events_once_each() {
    let disconnects = Disconnects::default();
    let hub = Arc::new(SubscriptionHub::default());
    let replay = Replay::Events {
        events: vec![posted(3), posted(4)],
        through: Seq::new(4),
    };
    // Posted while the replay was read: 4 is in the replay too, 5 is not.
    let chat = resuming(&hub, replay, vec![posted(4), posted(5)], &disconnects);
    let mut client = start_on(hub.clone(), chat, settings());
    client.connect().await;

    client.resume("2");
    let (replayed, live) = client.seqs_around_receipt(1).await;
    hub.deliver(&[DM], &posted(5));
    hub.deliver(&[DM], &posted(6));
    let next = body(&client.next().await);

    assert_eq!(replayed, [3, 4]);
    assert_eq!(live, [5], "the held 4 was dropped at the seam");
    assert_eq!(next["seq"], 6, "a repeated 5 is dropped too");
}

#[tokio::test(start_paused = true)]
async fn a_resume_beyond_the_limit_gets_one_gap_then_live_events_after_it() {
    let disconnects = Disconnects::default();
    let hub = Arc::new(SubscriptionHub::default());
    let replay = Replay::Gap {
        from: Seq::new(3),
        to: Seq::new(40),
    };
    let chat = resuming(&hub, replay, vec![posted(40), posted(41)], &disconnects);
    let mut client = start_on(hub.clone(), chat, settings());
    client.connect().await;

    client.resume("2");
    let gap = body(&client.next().await);
    let receipt = client.next().await;
    let live = body(&client.next().await);

    assert_eq!(
        gap,
        serde_json::json!({"type": "gap", "roomId": "5", "fromSeq": 3, "toSeq": 40})
    );
    assert!(receipt.starts_with("RECEIPT"), "{receipt}");
    assert_eq!(live["seq"], 41);
}

#[tokio::test(start_paused = true)]
async fn a_bad_since_seq_is_refused_without_a_replay_or_a_subscription() {
    for (destination, since) in [
        ("/topic/direct/5", "-1"),
        ("/topic/direct/5", "two"),
        ("/topic/direct/5", ""),
        ("/topic/direct/5", "99999999999999999999999"),
        ("/topic/community/3", "2"),
    ] {
        let disconnects = Disconnects::default();
        let mut chat = chat(Duration::from_secs(3600), &disconnects);
        chat.access.expect_authorize_listen().never();
        chat.reading.expect_replay().never();
        let mut client = start(chat, settings());
        client.connect().await;
        client.subscribe("errors", "/user/queue/errors").await;

        client.frame(
            "SUBSCRIBE",
            &[
                ("id", "dm"),
                ("destination", destination),
                ("x-since-seq", since),
            ],
        );
        let refusal = body(&client.next().await);

        assert_eq!(refusal["code"], "invalid_since_seq", "{since}: {refusal}");
        assert_eq!(client.hub.subscription_count(), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_replay_the_store_cannot_give_is_refused_without_a_receipt_and_ends_the_subscription() {
    let disconnects = Disconnects::default();
    let mut chat = chat(Duration::from_secs(3600), &disconnects);
    chat.access
        .expect_authorize_listen()
        .returning(|_, _| Ok(()));
    chat.reading.expect_replay().returning(|_| {
        Err(application::usecases::ReplayError::Unavailable(
            anyhow::anyhow!("store down"),
        ))
    });
    let mut client = start(chat, settings());
    client.connect().await;
    client.subscribe("errors", "/user/queue/errors").await;

    client.resume("2");
    let refusal = body(&client.next().await);

    assert_eq!(refusal["code"], "unavailable");
    assert_eq!(
        refusal["receipt-id"], "r",
        "the refusal answers the SUBSCRIBE"
    );
    client.writes_nothing_for(A_MOMENT).await;
    assert_eq!(client.hub.subscription_count(), 0);
}

//! Overload: a publisher flooding a room faster than its reader reads is slowed and refused
//! `overloaded`; the reader, who keeps reading, is never disconnected and receives every
//! message stored or a `gap` covering it.

use std::collections::BTreeSet;
use std::time::Duration;

use chat_tests::{StompReader, TestServer, connect_split, unique_id};

const MESSAGES: usize = 1500;

/// What the flooder learnt: the seqs its RECEIPTs named, and how many SENDs were refused.
struct Flooded {
    stored: BTreeSet<u64>,
    overloaded: usize,
}

/// Reads the flooder's answers until every SEND has one.
async fn answers(mut reader: StompReader) -> Flooded {
    let mut flooded = Flooded {
        stored: BTreeSet::new(),
        overloaded: 0,
    };
    for _ in 0..MESSAGES {
        let frame = reader
            .next_within(Duration::from_secs(30))
            .await
            .expect("every SEND is answered in time")
            .expect("the flooder's connection stays open");
        match frame.command.as_str() {
            "RECEIPT" => {
                let seq = frame.header("seq").expect("a stored post's seq");
                flooded.stored.insert(seq.parse().expect("a number"));
            }
            "MESSAGE" => {
                let error = frame.json();
                assert_eq!(error["code"], "overloaded", "{error}");
                flooded.overloaded += 1;
            }
            other => panic!("unexpected {other}: {frame:?}"),
        }
    }
    flooded
}

/// What the reader received: message seqs and gap ranges, in order.
#[derive(Default)]
struct Read {
    seqs: Vec<u64>,
    gaps: Vec<(u64, u64)>,
}

impl Read {
    fn covers(&self, seq: u64) -> bool {
        self.seqs.binary_search(&seq).is_ok()
            || self
                .gaps
                .iter()
                .any(|(from, to)| (*from..=*to).contains(&seq))
    }
}

/// Reads at its own pace (a pause every ten frames) until `last` arrived or is covered.
async fn read_until_quiet(reader: &mut StompReader) -> Read {
    let mut read = Read::default();
    let mut taken = 0_u64;
    loop {
        let Ok(frame) = reader.next_within(Duration::from_secs(5)).await else {
            return read;
        };
        let frame = frame.expect("the reader is never disconnected");
        assert_eq!(frame.command, "MESSAGE", "{frame:?}");
        let event = frame.json();
        if event["type"] == "gap" {
            let range = (
                event["fromSeq"].as_u64().expect("fromSeq"),
                event["toSeq"].as_u64().expect("toSeq"),
            );
            read.gaps.push(range);
        } else {
            let seq = event["seq"].as_u64().expect("a room event's seq");
            assert!(
                read.seqs.last().is_none_or(|last| *last < seq),
                "in order: {seq} after {:?}",
                read.seqs.last()
            );
            read.seqs.push(seq);
        }
        taken += 1;
        if taken.is_multiple_of(10) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

#[tokio::test]
async fn a_flooded_reader_keeps_its_connection_and_gets_every_message_or_a_gap_while_the_flooder_is_slowed()
 {
    let server = TestServer::start_with(&[
        ("CHAT_LIMITS__WRITE_PER_SECOND", "1000000"),
        ("CHAT_LIMITS__WRITE_BURST", "1000000"),
        ("CHAT_LIMITS__ROOM_WRITE_PER_SECOND", "0"),
        ("CHAT_STOMP__OUTBOUND_QUEUE", "32"),
        ("CHAT_STOMP__OVERLOAD_WAIT_MS", "300"),
        ("CHAT_STOMP__SLOW_CONSUMER_MS", "2000"),
    ]);
    let url = server.ws_url();
    let room = unique_id();
    let (mut reader_out, mut reader) = connect_split(&url, 2, Some(4096)).await;
    let topic = format!("/topic/direct/{room}");
    assert!(
        reader_out
            .send(
                "SUBSCRIBE",
                &[("id", "room"), ("destination", &topic), ("receipt", "s")],
                ""
            )
            .await
    );
    let subscribed = reader.next().await.expect("the SUBSCRIBE's receipt");
    assert_eq!(subscribed.command, "RECEIPT", "{subscribed:?}");

    let (mut publisher, publisher_in) = connect_split(&url, 1, None).await;
    let errors = [("id", "errors"), ("destination", "/user/queue/errors")];
    assert!(publisher.send("SUBSCRIBE", &errors, "").await);
    let answered = tokio::spawn(answers(publisher_in));
    let flooding = tokio::spawn(async move {
        for n in 0..MESSAGES {
            let body = format!(r#"{{"content":"flood {n}","channelId":"{room}"}}"#);
            let receipt = format!("r-{n}");
            let headers = [
                ("destination", "/kafka/send-direct-message"),
                ("receipt", receipt.as_str()),
            ];
            assert!(
                publisher.send("SEND", &headers, &body).await,
                "the flooder is never cut off"
            );
        }
        publisher
    });

    let read = read_until_quiet(&mut reader).await;
    let _publisher = flooding.await.expect("flooded");
    let flooded = answered.await.expect("answers read");

    assert!(!flooded.stored.is_empty());
    let missing: Vec<u64> = flooded
        .stored
        .iter()
        .copied()
        .filter(|seq| !read.covers(*seq))
        .collect();
    assert!(
        missing.is_empty(),
        "neither delivered nor in a gap: {missing:?}"
    );
    let (_, _, metrics) = server.rest().get_text("/metrics").await;
    let delayed = metrics
        .lines()
        .find_map(|line| line.strip_prefix("stomp_publishes_delayed_total "))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        flooded.overloaded > 0 || delayed > 0.0,
        "the flooder was neither refused nor slowed"
    );
    assert!(
        server.log_lines_containing("slow consumer").is_empty(),
        "nobody was cut off as a slow consumer"
    );
}

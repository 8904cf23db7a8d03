//! One order per room, under load and failures: three instances with concurrent publishers on
//! each, a SIGKILL of one instance mid-stream and a broker outage. Every send, receipt and
//! delivery is recorded; no acknowledged message may be lost or doubled, every subscriber must
//! see the room in strictly increasing seq, all in one order, and history must show it so.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_tests::{
    ClusterServices, FakeCommunityService, PrivateKafka, StompClient, TestCluster, token, unique_id,
};
use serde_json::json;

const PER_PUBLISHER: usize = 60;
/// About 40 messages a second per publisher, as in the measurement.
const PACE: Duration = Duration::from_millis(25);

/// A message whose SEND was acknowledged with a RECEIPT.
#[derive(Debug, Clone)]
struct Acknowledged {
    content: String,
    message_id: String,
    seq: u64,
}

/// A room event a subscriber received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heard {
    id: String,
    seq: u64,
    content: String,
}

fn lock<T>(shared: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends `PER_PUBLISHER` numbered messages, each retried with its `client-msg-id` until
/// acknowledged, at `PACE`; holds back while `paused`.
async fn publish(
    mut client: StompClient,
    room: u64,
    node: usize,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
    progress: Arc<AtomicUsize>,
    paused: Arc<AtomicBool>,
) {
    for n in 0..PER_PUBLISHER {
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let content = format!("node{node} #{n}");
        let client_msg_id = format!("{room}-{node}-{n}");
        let body = json!({"content": content, "channelId": room.to_string()});
        let mut attempts = 0;
        let receipt = loop {
            match client
                .try_send_json_with(
                    "/kafka/send-direct-message",
                    &[("client-msg-id", &client_msg_id)],
                    &body,
                )
                .await
            {
                Ok(receipt) => break receipt,
                Err(refusal) => {
                    assert_eq!(refusal["code"], "unavailable", "{refusal}");
                    attempts += 1;
                    assert!(attempts < 200, "{content} never acknowledged");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        };
        lock(&acknowledged).push(Acknowledged {
            content,
            message_id: receipt.header("message-id").expect("message-id").to_owned(),
            seq: receipt
                .header("seq")
                .and_then(|seq| seq.parse().ok())
                .expect("seq"),
        });
        progress.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(PACE).await;
    }
}

/// Records every message event on `topic` until `stop` is set and the topic is quiet.
async fn listen(
    mut client: StompClient,
    topic: String,
    heard: Arc<Mutex<Vec<Heard>>>,
    stop: Arc<AtomicBool>,
) {
    loop {
        match client
            .wait_for_event_on(&topic, Duration::from_millis(300))
            .await
        {
            Some(event) if event["type"] == "message" => lock(&heard).push(Heard {
                id: event["id"].as_str().expect("id").to_owned(),
                seq: event["seq"].as_u64().expect("seq"),
                content: event["message"].as_str().expect("message").to_owned(),
            }),
            None if stop.load(Ordering::SeqCst) => return,
            Some(_) | None => {}
        }
    }
}

/// Waits until `done` holds, at most `patience`.
async fn eventually(patience: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + patience;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

/// The room's whole history, oldest first, through REST on `node`.
async fn history(cluster: &TestCluster, node: usize, room: u64) -> Vec<Heard> {
    let messages = cluster
        .node(node)
        .rest()
        .direct_history(room, &token(1, "alice"))
        .await;
    messages
        .iter()
        .map(|m| Heard {
            id: m["id"].as_str().expect("id").to_owned(),
            seq: m["seq"].as_u64().expect("seq"),
            content: m["content"].as_str().expect("content").to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn three_instances_with_a_killed_one_and_a_broker_outage_deliver_one_order_without_loss_or_doubles()
 {
    let room = unique_id();
    let service = FakeCommunityService::room_of_three(room).await;
    let mut kafka = PrivateKafka::start();
    let on = ClusterServices {
        kafka_brokers: kafka.brokers(),
        ..ClusterServices::shared()
    };
    let mut cluster = TestCluster::start_on(3, &service.base_url(), &on).await;
    let topic = format!("/topic/direct/{room}");

    let stop = Arc::new(AtomicBool::new(false));
    let listeners = start_listeners(&cluster, &topic, &stop).await;
    let paused = Arc::new(AtomicBool::new(false));
    let mut publishers = start_publishers(&cluster, room, &paused).await;
    let sent = |node: usize| publishers[node].1.load(Ordering::SeqCst);

    // SIGKILL the third instance mid-stream, its SENDs in flight.
    assert!(eventually(Duration::from_secs(60), || sent(2) >= PER_PUBLISHER / 3).await);
    cluster.kill(2);
    publishers[2].2.abort();
    for (node, _, task) in &listeners {
        if *node == 2 {
            task.abort();
        }
    }

    // A broker outage while the others keep sending. What the broker had accepted and nobody
    // had read yet dies with a memory-only broker, so the bus is drained first: a broker
    // without replicas losing records is not what this test is about.
    assert!(
        eventually(Duration::from_secs(60), || sent(0) >= PER_PUBLISHER / 2
            && sent(1) >= PER_PUBLISHER / 2)
        .await
    );
    paused.store(true, Ordering::SeqCst);
    let acknowledged_so_far = |publishers: &[Publisher]| {
        publishers
            .iter()
            .flat_map(|(acknowledged, _, _)| lock(acknowledged).clone())
            .map(|a| a.content)
            .collect::<HashSet<String>>()
    };
    let survivors_heard_everything = |listeners: &[Listener], wanted: &HashSet<String>| {
        listeners
            .iter()
            .filter(|(node, _, _)| *node != 2)
            .all(|(_, heard, _)| {
                let heard: HashSet<String> =
                    lock(heard).iter().map(|h| h.content.clone()).collect();
                wanted.is_subset(&heard)
            })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wanted = acknowledged_so_far(&publishers);
    assert!(
        eventually(Duration::from_secs(30), || survivors_heard_everything(
            &listeners, &wanted
        ))
        .await,
        "the survivors heard every acknowledged message before the broker outage"
    );
    kafka.stop();
    paused.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kafka = tokio::task::spawn_blocking(move || {
        kafka.restart();
        kafka
    })
    .await
    .expect("broker restarts");

    for (_, _, task) in publishers.iter_mut().take(2) {
        task.await.expect("publisher finished");
    }
    let acknowledged: Vec<Acknowledged> = publishers
        .iter()
        .flat_map(|(acknowledged, _, _)| lock(acknowledged).clone())
        .collect();
    let wanted: HashSet<String> = acknowledged.iter().map(|a| a.content.clone()).collect();
    let complete = eventually(Duration::from_secs(60), || {
        survivors_heard_everything(&listeners, &wanted)
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let mut orders = Vec::new();
    for (node, heard, task) in listeners {
        if node != 2 {
            task.await.expect("listener finished");
            orders.push(lock(&heard).clone());
        }
    }
    drop(kafka);

    assert!(complete, "every survivor heard every acknowledged message");
    assert_one_order(&orders, &acknowledged, &history(&cluster, 0, room).await);
}

/// What every surviving subscriber heard (`orders`) holds each `acknowledged` message once, as
/// its RECEIPT named it, in strictly increasing seq, in one order, the order of `stored`.
fn assert_one_order(orders: &[Vec<Heard>], acknowledged: &[Acknowledged], stored: &[Heard]) {
    // No acknowledged message lost, none doubled, each as its RECEIPT named it.
    for order in orders {
        let ids: HashSet<&str> = order.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids.len(), order.len(), "no message delivered twice");
        let contents: HashSet<&str> = order.iter().map(|h| h.content.as_str()).collect();
        assert_eq!(contents.len(), order.len(), "no message stored twice");
        for sent in acknowledged {
            let heard = order
                .iter()
                .find(|h| h.content == sent.content)
                .expect("heard");
            assert_eq!(
                (heard.id.as_str(), heard.seq),
                (sent.message_id.as_str(), sent.seq)
            );
        }
        // Seq strictly increasing for every subscriber.
        assert!(
            order.windows(2).all(|pair| pair[0].seq < pair[1].seq),
            "seqs in order: {:?}",
            order.iter().map(|h| h.seq).collect::<Vec<_>>()
        );
    }
    // The same order everywhere.
    for order in &orders[1..] {
        assert_eq!(order, &orders[0], "every subscriber heard one order");
    }
    // History equal to the live order: what was heard, in the same places, with the same
    // seqs; history may also hold a message whose writer died before publishing it.
    let live_ids: HashSet<&str> = orders[0].iter().map(|h| h.id.as_str()).collect();
    let stored_live: Vec<Heard> = stored
        .iter()
        .filter(|h| live_ids.contains(h.id.as_str()))
        .cloned()
        .collect();
    assert_eq!(stored_live, orders[0], "history shows the live order");
    let unpublished: Vec<&Heard> = stored
        .iter()
        .filter(|h| !live_ids.contains(h.id.as_str()))
        .collect();
    assert!(
        unpublished.iter().all(|h| h.content.starts_with("node2 ")),
        "only the killed instance may have stored messages it never published: {unpublished:?}"
    );
}

const USERS: [(u64, &str); 3] = [(1, "alice"), (2, "bob"), (3, "carol")];

/// A subscriber's instance, what it heard, and its task.
type Listener = (usize, Arc<Mutex<Vec<Heard>>>, tokio::task::JoinHandle<()>);

/// A publisher's acknowledged messages, how many it sent, and its task.
type Publisher = (
    Arc<Mutex<Vec<Acknowledged>>>,
    Arc<AtomicUsize>,
    tokio::task::JoinHandle<()>,
);

/// Two subscribers of `topic` on every instance, listening until `stop`.
async fn start_listeners(
    cluster: &TestCluster,
    topic: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<Listener> {
    let mut listeners = Vec::new();
    for node in 0..3 {
        for (user, name) in [USERS[node], USERS[(node + 1) % 3]] {
            let mut client = StompClient::connect(&cluster.node(node).ws_url(), user, name).await;
            client.subscribe("dm", topic).await;
            let heard = Arc::new(Mutex::new(Vec::new()));
            let task = tokio::spawn(listen(
                client,
                topic.to_owned(),
                heard.clone(),
                stop.clone(),
            ));
            listeners.push((node, heard, task));
        }
    }
    listeners
}

/// One publisher on every instance, all sending at once.
async fn start_publishers(
    cluster: &TestCluster,
    room: u64,
    paused: &Arc<AtomicBool>,
) -> Vec<Publisher> {
    let mut publishers = Vec::new();
    for (node, (user, name)) in USERS.into_iter().enumerate() {
        let mut client = StompClient::connect(&cluster.node(node).ws_url(), user, name).await;
        client.subscribe("errors", "/user/queue/errors").await;
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let progress = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(publish(
            client,
            room,
            node,
            acknowledged.clone(),
            progress.clone(),
            paused.clone(),
        ));
        publishers.push((acknowledged, progress, task));
    }
    publishers
}

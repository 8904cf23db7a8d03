//! The embedded store's numbering, history and unread counts, and how it stays within its
//! limits without hiding what it dropped.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use application::ports::outbound::{HistoryOrder, RoomChanges};
use domain::{ChannelId, CommunityId, MessageBody, RoomId, RoomRef, Timestamp, UserProfile};

use super::*;

const DM: RoomRef = RoomRef::Direct(RoomId::new(5));

fn new_message(id: &str, room: RoomRef) -> NewMessage {
    NewMessage {
        id: MessageId::parse(id).expect("id"),
        room,
        author: UserProfile::anonymous(UserId::new(1)),
        body: MessageBody::parse("hi").expect("body"),
        parent: None,
        attachment: None,
        client_msg_id: None,
        sent_at: Timestamp::from_unix_micros(0),
    }
}

fn limited(limits: MemoryStoreLimits) -> MemoryMessageStore {
    MemoryMessageStore::new(limits, Arc::new(SystemClock))
}

async fn post(store: &MemoryMessageStore, id: &str, room: RoomRef) -> Message {
    store
        .append(new_message(id, room))
        .await
        .expect("stored")
        .into_message()
}

/// Posts `count` messages to `room`, with ids `D{room}-{n}` (or `C{channel}-{n}`).
async fn post_many(store: &MemoryMessageStore, room: RoomRef, count: u64) {
    let prefix = match room.key() {
        RoomKey::Direct(id) => format!("D{id}"),
        RoomKey::Channel(id) => format!("C{id}"),
    };
    for n in 0..count {
        post(store, &format!("{prefix}-{n}"), room).await;
    }
}

fn query(before: Option<u64>, after: Option<u64>, order: HistoryOrder) -> HistoryQuery {
    HistoryQuery {
        before: before.map(Seq::new),
        after: after.map(Seq::new),
        order,
        skip: 0,
        limit: 100,
    }
}

fn seqs(page: &[Message]) -> Vec<u64> {
    page.iter().map(|m| m.seq().get()).collect()
}

fn changed_seqs(changes: &RoomChanges) -> Option<Vec<u64>> {
    let mut seqs: Vec<u64> = changes
        .changed
        .as_ref()?
        .iter()
        .map(|c| c.message.seq().get())
        .collect();
    seqs.sort_unstable();
    Some(seqs)
}

#[tokio::test]
async fn each_room_numbers_its_events_from_one_without_gaps() {
    let store = MemoryMessageStore::default();
    let channel = RoomRef::Channel {
        community: CommunityId::new(3),
        channel: ChannelId::new(12),
    };

    let first = post(&store, "a", DM).await;
    let other_room = post(&store, "b", channel).await;
    let second = post(&store, "c", DM).await;
    let edit = store
        .update(
            &first
                .edited(
                    UserId::new(1),
                    MessageBody::parse("x").expect("b"),
                    Timestamp::from_unix_micros(1),
                )
                .expect("edit"),
        )
        .await
        .expect("updated");

    assert_eq!(first.seq(), Seq::new(1));
    assert_eq!(other_room.seq(), Seq::new(1));
    assert_eq!(second.seq(), Seq::new(2));
    assert_eq!(edit, Seq::new(3));
}

#[tokio::test]
async fn history_pages_by_sequence_number_in_either_order() {
    let store = MemoryMessageStore::default();
    for id in ["a", "b", "c", "d"] {
        post(&store, id, DM).await;
    }
    let page = |before: Option<u64>, after: Option<u64>, order| HistoryQuery {
        limit: 2,
        ..query(before, after, order)
    };
    let ids = |page: Vec<Message>| {
        page.iter()
            .map(|m| m.id().as_str().to_owned())
            .collect::<Vec<_>>()
    };

    let newest = store
        .history(DM.key(), page(None, None, HistoryOrder::NewestFirst))
        .await
        .expect("page");
    let older = store
        .history(DM.key(), page(Some(3), None, HistoryOrder::NewestFirst))
        .await
        .expect("page");
    let oldest = store
        .history(DM.key(), page(None, Some(1), HistoryOrder::OldestFirst))
        .await
        .expect("page");
    let empty = store
        .history(DM.key(), page(Some(2), Some(2), HistoryOrder::OldestFirst))
        .await
        .expect("page");

    assert_eq!(ids(newest), ["d", "c"]);
    assert_eq!(ids(older), ["b", "a"]);
    assert_eq!(ids(oldest), ["b", "c"]);
    assert!(empty.is_empty());
}

#[tokio::test]
async fn unread_counts_live_messages_of_others_after_the_marker() {
    let store = MemoryMessageStore::default();
    let reader = UserId::new(2);
    for id in ["a", "b", "c"] {
        post(&store, id, DM).await;
    }
    let mut own = new_message("mine", DM);
    own.author = UserProfile::anonymous(reader);
    store.append(own).await.expect("stored");

    let all = store
        .activity(DM.key(), reader, None)
        .await
        .expect("activity");
    let after_first = store
        .activity(DM.key(), reader, Some(Seq::new(1)))
        .await
        .expect("activity");

    assert_eq!(all.unread, 3);
    assert_eq!(after_first.unread, 2);
    assert_eq!(all.last_seq, Some(Seq::new(4)));
}

#[tokio::test]
async fn a_stored_message_is_found_by_id_with_its_latest_state() {
    let store = MemoryMessageStore::default();
    let stored = post(&store, "a", DM).await;
    let tombstone = stored
        .deleted(UserId::new(1), Timestamp::from_unix_micros(5))
        .expect("deleted");
    store.update(&tombstone).await.expect("updated");

    let found = store.find(stored.id()).await.expect("read");

    assert_eq!(found, Some(tombstone));
}

#[tokio::test]
async fn a_room_keeps_only_its_newest_messages_up_to_its_limit() {
    let store = limited(MemoryStoreLimits {
        max_messages_per_room: 5,
        ..MemoryStoreLimits::DEFAULT
    });
    post_many(&store, DM, 8).await;

    let newest_first = store
        .history(DM.key(), query(None, None, HistoryOrder::NewestFirst))
        .await
        .expect("page");
    let before_six = store
        .history(DM.key(), query(Some(6), None, HistoryOrder::NewestFirst))
        .await
        .expect("page");
    let oldest = store
        .find(&MessageId::parse("D5-0").expect("id"))
        .await
        .expect("read");

    assert_eq!(seqs(&newest_first), [8, 7, 6, 5, 4]);
    assert_eq!(seqs(&before_six), [5, 4], "older pages hold what remains");
    assert_eq!(oldest, None);
}

#[tokio::test]
async fn a_resume_from_before_a_dropped_message_is_told_it_cannot_be_caught_up() {
    let store = limited(MemoryStoreLimits {
        max_messages_per_room: 5,
        ..MemoryStoreLimits::DEFAULT
    });
    post_many(&store, DM, 8).await;

    let from_one = store.events_since(DM.key(), Seq::new(1), 500).await;
    let from_two = store.events_since(DM.key(), Seq::new(2), 500).await;
    let from_three = store.events_since(DM.key(), Seq::new(3), 500).await;

    let from_one = from_one.expect("read");
    assert_eq!(from_one.changed, None, "seqs 2 and 3 are gone: a gap");
    assert_eq!(from_one.last_seq, Some(Seq::new(8)));
    assert_eq!(changed_seqs(&from_two.expect("read")), None);
    assert_eq!(
        changed_seqs(&from_three.expect("read")),
        Some(vec![4, 5, 6, 7, 8]),
        "everything after seq 3 is still held"
    );
}

#[tokio::test]
async fn a_dropped_message_edited_after_the_readers_seq_makes_its_resume_a_gap() {
    let store = limited(MemoryStoreLimits {
        max_messages_per_room: 3,
        ..MemoryStoreLimits::DEFAULT
    });
    let first = post(&store, "a", DM).await;
    post_many(&store, DM, 2).await;
    let edit = store
        .update(
            &first
                .edited(
                    UserId::new(1),
                    MessageBody::parse("x").expect("b"),
                    Timestamp::from_unix_micros(1),
                )
                .expect("edit"),
        )
        .await
        .expect("updated");
    post(&store, "d", DM).await;

    let since_three = store
        .events_since(DM.key(), Seq::new(3), 500)
        .await
        .expect("read");
    let since_edit = store.events_since(DM.key(), edit, 500).await.expect("read");

    assert_eq!(edit, Seq::new(4));
    assert_eq!(
        since_three.changed, None,
        "the edit at seq 4 of the dropped message cannot be replayed"
    );
    assert_eq!(changed_seqs(&since_edit), Some(vec![5]));
}

#[tokio::test]
async fn past_the_byte_budget_the_oldest_messages_of_any_room_are_dropped() {
    let budget = 10 * footprint::footprint(&new_message("D5-0", DM).stored_at(Seq::FIRST));
    let store = limited(MemoryStoreLimits {
        max_bytes: budget,
        ..MemoryStoreLimits::DEFAULT
    });
    let other = RoomRef::Direct(RoomId::new(6));
    post_many(&store, DM, 6).await;
    post_many(&store, other, 6).await;

    let dm = store
        .history(DM.key(), query(None, None, HistoryOrder::OldestFirst))
        .await
        .expect("page");
    let in_other = store
        .history(other.key(), query(None, None, HistoryOrder::OldestFirst))
        .await
        .expect("page");

    assert_eq!(seqs(&dm), [3, 4, 5, 6], "the two oldest of all went");
    assert_eq!(seqs(&in_other), [1, 2, 3, 4, 5, 6]);
    assert!(format!("{store:?}").contains("messages: 10"), "{store:?}");
}

/// A clock the test moves.
#[derive(Debug, Default)]
struct ManualClock(AtomicI64);

impl ManualClock {
    fn set_seconds(&self, seconds: i64) {
        self.0.store(seconds * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_micros(self.0.load(Ordering::SeqCst))
    }
}

#[tokio::test]
async fn messages_older_than_the_age_limit_are_dropped() {
    let clock = Arc::new(ManualClock::default());
    let store = MemoryMessageStore::new(
        MemoryStoreLimits {
            max_age: Some(Duration::from_secs(60)),
            ..MemoryStoreLimits::DEFAULT
        },
        clock.clone(),
    );
    for (id, at) in [("a", 0), ("b", 30), ("c", 50)] {
        let mut message = new_message(id, DM);
        message.sent_at = Timestamp::from_unix_micros(at * 1_000_000);
        store.append(message).await.expect("stored");
    }

    clock.set_seconds(60);
    let at_sixty = store
        .history(DM.key(), query(None, None, HistoryOrder::OldestFirst))
        .await
        .expect("page");
    clock.set_seconds(95);
    let at_ninety_five = store
        .history(DM.key(), query(None, None, HistoryOrder::OldestFirst))
        .await
        .expect("page");
    let resume = store
        .events_since(DM.key(), Seq::new(0), 500)
        .await
        .expect("read");

    assert_eq!(seqs(&at_sixty), [1, 2, 3], "a is exactly 60 s old: kept");
    assert_eq!(seqs(&at_ninety_five), [3]);
    assert_eq!(resume.changed, None);
}

#[tokio::test]
async fn a_forgotten_room_numbers_its_events_after_every_forgotten_seq() {
    let store = limited(MemoryStoreLimits {
        max_rooms: 2,
        ..MemoryStoreLimits::DEFAULT
    });
    let (second, third) = (
        RoomRef::Direct(RoomId::new(6)),
        RoomRef::Direct(RoomId::new(7)),
    );
    post_many(&store, DM, 4).await;
    post_many(&store, second, 2).await;
    post_many(&store, third, 1).await;

    let forgotten = store
        .history(DM.key(), query(None, None, HistoryOrder::OldestFirst))
        .await
        .expect("page");
    let resume_forgotten = store
        .events_since(DM.key(), Seq::new(2), 500)
        .await
        .expect("read");
    let again = post(&store, "again", DM).await;
    let resume_second = store
        .events_since(second.key(), Seq::new(1), 500)
        .await
        .expect("read");

    assert!(forgotten.is_empty(), "the room silent longest is forgotten");
    assert_eq!(
        resume_forgotten,
        RoomChanges {
            changed: None,
            last_seq: Some(Seq::new(4))
        },
        "a resume in a forgotten room is a gap up to the newest forgotten seq"
    );
    assert_eq!(again.seq(), Seq::new(5), "its numbers never repeat");
    assert_eq!(
        changed_seqs(&resume_second),
        None,
        "forgotten to make room for the DM again, so a resume is a gap"
    );
}

#[tokio::test]
async fn a_repeat_of_a_dropped_message_is_stored_anew() {
    let store = limited(MemoryStoreLimits {
        max_messages_per_room: 1,
        ..MemoryStoreLimits::DEFAULT
    });
    let key = ClientMsgId::parse("k-1").expect("key");
    let keyed = |id: &str| NewMessage {
        client_msg_id: Some(key.clone()),
        ..new_message(id, DM)
    };
    let first = store.append(keyed("a")).await.expect("stored");
    let repeat = store.append(keyed("b")).await.expect("stored");
    post(&store, "c", DM).await;

    let found = store
        .find_by_client_msg_id(DM.key(), UserId::new(1), &key)
        .await
        .expect("read");
    let after_drop = store.append(keyed("d")).await.expect("stored");

    assert!(matches!(first, Appended::New(_)));
    assert!(matches!(repeat, Appended::Existing(ref m) if m.id().as_str() == "a"));
    assert_eq!(found, None, "the key went with its message");
    assert!(matches!(after_drop, Appended::New(ref m) if m.seq() == Seq::new(3)));
}

#[tokio::test]
async fn unread_counts_and_markers_count_only_what_remains() {
    let store = limited(MemoryStoreLimits {
        max_messages_per_room: 3,
        ..MemoryStoreLimits::DEFAULT
    });
    post_many(&store, DM, 10).await;
    let reader = UserId::new(2);

    let never_read = store
        .activity(DM.key(), reader, None)
        .await
        .expect("activity");
    let read_to_two = store
        .activity(DM.key(), reader, Some(Seq::new(2)))
        .await
        .expect("activity");
    let read_to_nine = store
        .activity(DM.key(), reader, Some(Seq::new(9)))
        .await
        .expect("activity");

    assert_eq!(never_read.unread, 3);
    assert_eq!(read_to_two.unread, 3);
    assert_eq!(read_to_nine.unread, 1);
    assert_eq!(never_read.last_seq, Some(Seq::new(10)));
}

#[test]
fn the_size_and_what_was_dropped_are_reported_as_metrics() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let store = limited(MemoryStoreLimits {
        max_messages_per_room: 2,
        ..MemoryStoreLimits::DEFAULT
    });

    metrics::with_local_recorder(&recorder, || {
        futures::executor::block_on(post_many(&store, DM, 5));
    });

    let rendered = handle.render();
    for line in [
        "chat_memory_store_messages 2",
        "chat_memory_store_rooms 1",
        r#"chat_memory_store_evicted_total{reason="room_limit"} 3"#,
    ] {
        assert!(
            rendered.lines().any(|l| l == line),
            "{line} missing in:\n{rendered}"
        );
    }
    assert!(
        rendered.contains(&format!(
            "chat_memory_store_max_bytes {}",
            MemoryStoreLimits::DEFAULT.max_bytes
        )),
        "{rendered}"
    );
}

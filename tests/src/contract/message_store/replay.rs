//! What changed since a seq (`events_since`): later posts and later changes of older
//! messages, nothing beyond the limit.

use super::{
    ALICE, BOB, Message, MessageBody, MessageStore, RoomChanges, Seq, channel, dm, edit, post,
    post_many, tombstone,
};

/// The ids and last-change seqs of a replay, sorted by id text, for comparison.
fn replayed(changes: &RoomChanges) -> Vec<(String, Option<u64>)> {
    let mut found: Vec<(String, Option<u64>)> = changes
        .changed
        .as_ref()
        .expect("within the limit")
        .iter()
        .map(|c| {
            (
                c.message.id().as_str().to_owned(),
                c.last_change.map(Seq::get),
            )
        })
        .collect();
    found.sort();
    found
}

fn id_of(message: &Message, change: Option<u64>) -> (String, Option<u64>) {
    (message.id().as_str().to_owned(), change)
}

/// What became of a room since a seq: the messages posted after it, as they are now,
/// and the older messages edited or deleted after it, each with its last change's seq.
pub async fn events_since_returns_later_posts_and_later_changes_of_older_messages(
    store: impl MessageStore,
) {
    let room = dm();
    let posted = post_many(&store, room, 4).await; // seqs 1-4
    store
        .update(&edit(&posted[0], "early edit"))
        .await
        .expect("edit"); // 5, seen
    let edit_seq = store
        .update(&edit(&posted[1], "late edit"))
        .await
        .expect("edit"); // 6
    let later = post(&store, room, BOB, "later").await; // 7
    let delete_seq = store.update(&tombstone(&posted[2])).await.expect("delete"); // 8
    let later_edit = store
        .update(&edit(&later, "later, edited"))
        .await
        .expect("edit"); // 9
    post(&store, dm(), ALICE, "another room").await;

    let changes = store
        .events_since(room.key(), Seq::new(5), 10)
        .await
        .expect("events since");

    let mut expected = vec![
        id_of(&posted[1], Some(edit_seq.get())),
        id_of(&posted[2], Some(delete_seq.get())),
        id_of(&later, Some(later_edit.get())),
    ];
    expected.sort();
    assert_eq!(replayed(&changes), expected);
    assert_eq!(changes.last_seq, Some(Seq::new(9)));
    let now = changes
        .changed
        .expect("within the limit")
        .into_iter()
        .find(|c| c.message.id() == later.id())
        .expect("the later message");
    assert_eq!(
        now.message.body().map(MessageBody::as_str),
        Some("later, edited"),
        "a message comes back as it is now"
    );
}

/// More than the limit changed since the seq: nothing is returned, only the room's
/// newest seq; exactly the limit is still returned.
pub async fn events_since_beyond_the_limit_returns_only_the_newest_seq(store: impl MessageStore) {
    let room = channel();
    let posted = post_many(&store, room, 5).await;
    store
        .update(&edit(&posted[0], "edited"))
        .await
        .expect("edit"); // 6

    let beyond = store
        .events_since(room.key(), Seq::new(1), 4)
        .await
        .expect("events since");
    let exactly = store
        .events_since(room.key(), Seq::new(1), 5)
        .await
        .expect("events since");

    assert_eq!(
        beyond,
        RoomChanges {
            changed: None,
            last_seq: Some(Seq::new(6))
        }
    );
    assert_eq!(replayed(&exactly).len(), 5, "m1's edit and m2 to m5");
}

/// A room without events, or nothing since the seq: nothing, and the newest seq.
pub async fn events_since_the_newest_seq_is_empty(store: impl MessageStore) {
    let empty = store
        .events_since(dm().key(), Seq::new(0), 10)
        .await
        .expect("events since");
    let room = dm();
    post_many(&store, room, 2).await;
    let caught_up = store
        .events_since(room.key(), Seq::new(2), 10)
        .await
        .expect("events since");

    assert_eq!(
        empty,
        RoomChanges {
            changed: Some(vec![]),
            last_seq: None
        }
    );
    assert_eq!(
        caught_up,
        RoomChanges {
            changed: Some(vec![]),
            last_seq: Some(Seq::new(2))
        }
    );
}

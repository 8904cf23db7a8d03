//! Client keys (`client-msg-id`): a message is found by its author, room and key, and a
//! repeated key stores nothing.

use super::{
    ALICE, Appended, BOB, HistoryOrder, MessageStore, Seq, appended_new, channel, dm, history, key,
    keyed, query,
};

/// A message sent with a client key keeps it, and is found by its author, room and key.
pub async fn a_message_stored_with_a_client_key_is_found_by_it(store: impl MessageStore) {
    let room = channel();
    let sent = keyed(room, ALICE, "hello", "k-1");

    let stored = appended_new(store.append(sent.clone()).await.expect("append"));
    let by_key = store
        .find_by_client_msg_id(room.key(), ALICE, &key("k-1"))
        .await
        .expect("lookup");
    let by_id = store.find(stored.id()).await.expect("find");

    assert_eq!(stored, sent.stored_at(Seq::FIRST), "the key is kept");
    assert_eq!(by_key.as_ref(), Some(&stored));
    assert_eq!(by_id.as_ref(), Some(&stored));
    let unknown = store
        .find_by_client_msg_id(room.key(), ALICE, &key("k-2"))
        .await
        .expect("lookup");
    assert_eq!(unknown, None, "another key finds nothing");
}

/// An append repeating an author's key in a room (a repeat that raced past the lookup)
/// stores nothing and returns the message stored first, unchanged.
pub async fn a_second_append_with_the_same_key_returns_the_first_and_stores_nothing(
    store: impl MessageStore,
) {
    let room = dm();
    let first = appended_new(
        store
            .append(keyed(room, ALICE, "first", "k-1"))
            .await
            .expect("append"),
    );

    let repeat = store
        .append(keyed(room, ALICE, "repeat", "k-1"))
        .await
        .expect("repeated append");

    assert_eq!(repeat, Appended::Existing(first.clone()));
    assert_eq!(
        history(&store, room, query(HistoryOrder::OldestFirst, None, None)).await,
        [first],
        "stored once"
    );
}

/// A key is its author's in its room: the same key from another author, or in another
/// room, is another message.
pub async fn the_same_key_by_another_author_or_in_another_room_is_another_message(
    store: impl MessageStore,
) {
    let (room, other_room) = (dm(), dm());

    let alices = store.append(keyed(room, ALICE, "a", "k-1")).await;
    let bobs = store.append(keyed(room, BOB, "b", "k-1")).await;
    let elsewhere = store.append(keyed(other_room, ALICE, "c", "k-1")).await;

    let alices = appended_new(alices.expect("append"));
    let bobs = appended_new(bobs.expect("append"));
    let elsewhere = appended_new(elsewhere.expect("append"));
    assert_eq!((alices.seq(), bobs.seq()), (Seq::new(1), Seq::new(2)));
    assert_eq!(elsewhere.seq(), Seq::FIRST);
    let found = store
        .find_by_client_msg_id(room.key(), BOB, &key("k-1"))
        .await
        .expect("lookup");
    assert_eq!(found, Some(bobs));
}

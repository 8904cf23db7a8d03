//! Contract of the `MessageStore` port: per-room sequence numbers, lookups by id,
//! edits and tombstones, keyset-paginated history, unread activity and what changed
//! since a seq. Each behaviour takes a fresh store and works in rooms no other test uses.
//! This file holds the shared helpers and the numbering, lookup and update behaviours; the
//! others have a file each (`history`, `activity`, `client_keys`, `replay`).

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use application::ports::outbound::{
    Appended, HistoryOrder, HistoryQuery, MessageStore, RoomActivity, RoomChanges, StoreError,
};
use domain::{
    ChannelId, ClientMsgId, CommunityId, Message, MessageBody, MessageId, NewMessage,
    ParentContent, ParentSnapshot, RoomId, RoomRef, Seq, Timestamp, UserId, UserProfile,
};

use crate::unique_id;

mod activity;
mod client_keys;
mod history;
mod replay;

pub use activity::*;
pub use client_keys::*;
pub use history::*;
pub use replay::*;

const ALICE: UserId = UserId::new(1);
const BOB: UserId = UserId::new(2);

fn dm() -> RoomRef {
    RoomRef::Direct(RoomId::new(unique_id()))
}

fn channel() -> RoomRef {
    RoomRef::Channel {
        community: CommunityId::new(unique_id()),
        channel: ChannelId::new(unique_id()),
    }
}

/// Now, with microseconds that are not a whole millisecond, so a store that
/// rounds instants shows.
fn now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp::from_unix_micros(micros - micros % 1_000 + 123)
}

fn new_message(room: RoomRef, author: UserId, text: &str) -> NewMessage {
    NewMessage {
        id: MessageId::parse(&uuid::Uuid::new_v4().simple().to_string()).expect("id"),
        room,
        author: UserProfile {
            id: author,
            name: format!("user {author}"),
            image: Some(format!("https://img.example/{author}.png")),
        },
        body: MessageBody::parse(text).expect("body"),
        parent: None,
        attachment: None,
        client_msg_id: None,
        sent_at: now(),
    }
}

async fn post(store: &impl MessageStore, room: RoomRef, author: UserId, text: &str) -> Message {
    appended_new(
        store
            .append(new_message(room, author, text))
            .await
            .unwrap_or_else(|error| panic!("append `{text}` to {room}: {error:?}")),
    )
}

/// The message an append stored now; anything else fails the test.
fn appended_new(appended: Appended) -> Message {
    match appended {
        Appended::New(message) => message,
        Appended::Existing(message) => panic!("stored before: {message:?}"),
    }
}

fn key(text: &str) -> ClientMsgId {
    ClientMsgId::parse(text).expect("key")
}

/// A new message of `author` in `room` sent with the client key `key`.
fn keyed(room: RoomRef, author: UserId, text: &str, key_text: &str) -> NewMessage {
    NewMessage {
        client_msg_id: Some(key(key_text)),
        ..new_message(room, author, text)
    }
}

/// Posts `count` messages by Alice, texts `m1`, `m2`, …
async fn post_many(store: &impl MessageStore, room: RoomRef, count: usize) -> Vec<Message> {
    let mut posted = Vec::with_capacity(count);
    for n in 1..=count {
        posted.push(post(store, room, ALICE, &format!("m{n}")).await);
    }
    posted
}

fn query(order: HistoryOrder, after: Option<u64>, before: Option<u64>) -> HistoryQuery {
    HistoryQuery {
        before: before.map(Seq::new),
        after: after.map(Seq::new),
        order,
        skip: 0,
        limit: 100,
    }
}

async fn history(store: &impl MessageStore, room: RoomRef, query: HistoryQuery) -> Vec<Message> {
    store
        .history(room.key(), query)
        .await
        .unwrap_or_else(|error| panic!("history of {room} with {query:?}: {error:?}"))
}

fn seqs(page: &[Message]) -> Vec<u64> {
    page.iter().map(|m| m.seq().get()).collect()
}

fn texts(page: &[Message]) -> Vec<&str> {
    page.iter()
        .map(|m| m.body().map_or("<deleted>", MessageBody::as_str))
        .collect()
}

async fn activity(
    store: &impl MessageStore,
    room: RoomRef,
    reader: UserId,
    marker: Option<u64>,
) -> RoomActivity {
    store
        .activity(room.key(), reader, marker.map(Seq::new))
        .await
        .unwrap_or_else(|error| panic!("activity of {room}: {error:?}"))
}

fn edit(message: &Message, text: &str) -> Message {
    message
        .edited(
            message.author().id,
            MessageBody::parse(text).expect("body"),
            now(),
        )
        .expect("the author may edit")
}

fn tombstone(message: &Message) -> Message {
    message
        .deleted(message.author().id, now())
        .expect("the author may delete")
}

/// Each room numbers its messages 1, 2, 3… on its own, whatever happens in other
/// rooms (a DM room and a channel with the same number are different rooms).
pub async fn each_room_numbers_its_messages_from_one(store: impl MessageStore) {
    let first_dm = dm();
    let RoomRef::Direct(raw) = first_dm else {
        unreachable!("a DM room")
    };
    let other_dm = dm();
    let same_number_channel = RoomRef::Channel {
        community: CommunityId::new(unique_id()),
        channel: ChannelId::new(raw.get()),
    };

    let a1 = post(&store, first_dm, ALICE, "a1").await;
    let b1 = post(&store, other_dm, BOB, "b1").await;
    let a2 = post(&store, first_dm, BOB, "a2").await;
    let c1 = post(&store, same_number_channel, ALICE, "c1").await;
    let b2 = post(&store, other_dm, ALICE, "b2").await;
    let a3 = post(&store, first_dm, ALICE, "a3").await;

    assert_eq!(
        seqs(&[a1, a2, a3]),
        [1, 2, 3],
        "the first DM room numbers from 1"
    );
    assert_eq!(
        seqs(&[b1, b2]),
        [1, 2],
        "another DM room numbers on its own"
    );
    assert_eq!(
        seqs(&[c1]),
        [1],
        "a channel with the DM room's number is another room"
    );
}

/// `append` returns the message as given, with its number; `find` returns exactly
/// that (profile, parent snapshot and microsecond times included).
pub async fn an_appended_message_is_found_as_it_was_stored(store: impl MessageStore) {
    let room = channel();
    let parent = post(&store, room, BOB, "parent").await;
    let mut reply = new_message(room, ALICE, "  a reply  ");
    reply.parent = Some(parent.snapshot_for_reply_in(room).expect("same room"));

    let stored = appended_new(store.append(reply.clone()).await.expect("append"));
    let found = store.find(stored.id()).await.expect("find");

    assert_eq!(
        stored,
        reply.stored_at(Seq::new(2)),
        "append keeps every field and adds the number"
    );
    assert_eq!(
        found.as_ref(),
        Some(&stored),
        "find returns what was stored"
    );
    assert_eq!(
        store.find(parent.id()).await.expect("find").as_ref(),
        Some(&parent),
        "the parent is found too"
    );
}

/// An id that was never stored is `None`, not an error.
pub async fn an_unknown_id_is_not_found(store: impl MessageStore) {
    post(&store, dm(), ALICE, "something stored").await;
    let unknown = MessageId::parse(&uuid::Uuid::new_v4().simple().to_string()).expect("id");

    assert_eq!(store.find(&unknown).await.expect("find"), None);
}

/// `find_many` returns the stored messages among the ids, from any room, in the
/// order asked, leaving unknown ids out.
pub async fn find_many_returns_the_stored_ones_in_the_order_asked(store: impl MessageStore) {
    let a = post(&store, dm(), ALICE, "in a DM").await;
    let b = post(&store, channel(), BOB, "in a channel").await;
    let c = post(&store, dm(), ALICE, "in another DM").await;
    let unknown = MessageId::parse("never-stored").expect("id");

    let found = store
        .find_many(&[c.id().clone(), unknown, a.id().clone(), b.id().clone()])
        .await
        .expect("find_many");
    let none = store.find_many(&[]).await.expect("find_many of nothing");

    assert_eq!(found, [c, a, b]);
    assert!(none.is_empty(), "no ids, no messages: {none:?}");
}

/// An edit or delete takes the next number of its room (after every message and
/// change before it); the message keeps its posting number.
pub async fn an_update_takes_the_next_number_of_its_room(store: impl MessageStore) {
    let room = dm();
    let other = dm();
    let first = post(&store, room, ALICE, "first").await;
    let second = post(&store, room, ALICE, "second").await;
    post(&store, other, ALICE, "elsewhere").await;

    let edit_seq = store
        .update(&edit(&first, "first, edited"))
        .await
        .expect("edit");
    let third = post(&store, room, BOB, "third").await;
    let delete_seq = store.update(&tombstone(&second)).await.expect("delete");
    let elsewhere = post(&store, other, ALICE, "elsewhere again").await;

    assert_eq!(edit_seq, Seq::new(3), "the edit follows the two messages");
    assert_eq!(
        third.seq(),
        Seq::new(4),
        "the next message follows the edit"
    );
    assert_eq!(delete_seq, Seq::new(5), "the delete follows the message");
    assert_eq!(elsewhere.seq(), Seq::new(2), "other rooms are not affected");
    let found = store.find(first.id()).await.expect("find").expect("stored");
    assert_eq!(
        found.seq(),
        Seq::FIRST,
        "an edited message keeps its posting number"
    );
}

/// An edit is what `find` and history return afterwards, in the message's place.
pub async fn an_edit_is_persisted(store: impl MessageStore) {
    let room = channel();
    let posted = post_many(&store, room, 3).await;
    let edited = edit(&posted[0], "m1, edited");

    store.update(&edited).await.expect("edit");

    assert_eq!(
        store.find(edited.id()).await.expect("find"),
        Some(edited.clone())
    );
    let page = history(&store, room, query(HistoryOrder::OldestFirst, None, None)).await;
    assert_eq!(texts(&page), ["m1, edited", "m2", "m3"]);
    assert_eq!(page[0], edited, "history shows the edit with its time");
}

/// A delete leaves a tombstone: found by id, kept in history without its text,
/// and counted as neither unread nor live.
pub async fn a_tombstone_is_persisted(store: impl MessageStore) {
    let room = dm();
    let posted = post_many(&store, room, 3).await;
    let deleted = tombstone(&posted[1]);

    store.update(&deleted).await.expect("delete");

    let found = store.find(deleted.id()).await.expect("find").expect("kept");
    assert_eq!(found, deleted);
    assert!(
        found.body().is_none(),
        "a tombstone keeps no text: {found:?}"
    );
    let page = history(&store, room, query(HistoryOrder::OldestFirst, None, None)).await;
    assert_eq!(texts(&page), ["m1", "<deleted>", "m3"]);
    assert_eq!(activity(&store, room, BOB, None).await.unread, 2);
}

/// Updating a message that was never stored is an error and stores nothing.
pub async fn updating_a_message_that_was_never_stored_fails(store: impl MessageStore) {
    let room = dm();
    let never_stored = new_message(room, ALICE, "ghost").stored_at(Seq::FIRST);

    let result = store.update(&edit(&never_stored, "boo")).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(store.find(never_stored.id()).await.expect("find"), None);
    assert!(
        history(&store, room, query(HistoryOrder::OldestFirst, None, None))
            .await
            .is_empty()
    );
}

/// Appends racing on one room still get distinct numbers, 1 to n.
pub async fn concurrent_appends_to_one_room_get_distinct_numbers(store: impl MessageStore) {
    let room = dm();
    let appends = (1..=20).map(|n| {
        let store = &store;
        async move { post(store, room, ALICE, &format!("m{n}")).await }
    });

    let posted = futures::future::join_all(appends).await;

    let numbers: BTreeSet<u64> = posted.iter().map(|m| m.seq().get()).collect();
    assert_eq!(numbers, (1..=20).collect::<BTreeSet<_>>());
    assert_eq!(
        history(&store, room, query(HistoryOrder::OldestFirst, None, None))
            .await
            .len(),
        20
    );
}

/// A reply's parent snapshot marked deleted reads back as deleted.
pub async fn a_reply_to_a_deleted_parent_keeps_that_mark(store: impl MessageStore) {
    let room = dm();
    let parent = post(&store, room, BOB, "parent").await;
    let mut reply = new_message(room, ALICE, "reply");
    reply.parent = Some(ParentSnapshot {
        content: ParentContent::Deleted,
        ..parent.snapshot_for_reply_in(room).expect("same room")
    });

    let stored = appended_new(store.append(reply).await.expect("append"));

    assert_eq!(store.find(stored.id()).await.expect("find"), Some(stored));
}

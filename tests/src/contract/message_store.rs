//! Contract of the `MessageStore` port: per-room sequence numbers, lookups by id,
//! edits and tombstones, keyset-paginated history, unread activity and what changed
//! since a seq. Each
//! behaviour takes a fresh store and works in rooms no other test uses.

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

/// Walking a room newest first with `before` cursors visits every message once.
pub async fn newest_first_pages_cover_the_room_exactly_once(store: impl MessageStore) {
    let room = channel();
    post_many(&store, room, 7).await;

    let mut visited = Vec::new();
    let mut before = None;
    loop {
        let page = history(
            &store,
            room,
            HistoryQuery {
                limit: 3,
                ..query(HistoryOrder::NewestFirst, None, before)
            },
        )
        .await;
        let Some(last) = page.last() else { break };
        before = Some(last.seq().get());
        visited.extend(seqs(&page));
    }

    assert_eq!(visited, [7, 6, 5, 4, 3, 2, 1]);
}

/// Walking a room oldest first with `after` cursors visits every message once.
pub async fn oldest_first_pages_cover_the_room_exactly_once(store: impl MessageStore) {
    let room = dm();
    post_many(&store, room, 7).await;

    let mut visited = Vec::new();
    let mut after = None;
    loop {
        let page = history(
            &store,
            room,
            HistoryQuery {
                limit: 3,
                ..query(HistoryOrder::OldestFirst, after, None)
            },
        )
        .await;
        let Some(last) = page.last() else { break };
        after = Some(last.seq().get());
        visited.extend(seqs(&page));
    }

    assert_eq!(visited, [1, 2, 3, 4, 5, 6, 7]);
}

/// `before` and `after` bound the page strictly, `skip` passes over messages within
/// the bounds, `limit` caps the page (0: nothing).
pub async fn history_bounds_skip_and_limit_combine(store: impl MessageStore) {
    use HistoryOrder::{NewestFirst, OldestFirst};
    let room = dm();
    post_many(&store, room, 7).await;
    let page = |order, after, before, skip, limit| HistoryQuery {
        skip,
        limit,
        ..query(order, after, before)
    };

    let cases = [
        (page(NewestFirst, None, None, 2, 2), vec![5, 4]),
        (page(OldestFirst, None, None, 2, 2), vec![3, 4]),
        (page(OldestFirst, Some(2), Some(6), 0, 10), vec![3, 4, 5]),
        (page(NewestFirst, Some(2), Some(6), 0, 10), vec![5, 4, 3]),
        (page(NewestFirst, Some(2), Some(6), 1, 1), vec![4]),
        (page(NewestFirst, None, Some(1), 0, 10), vec![]),
        (page(OldestFirst, Some(7), None, 0, 10), vec![]),
        (page(NewestFirst, None, None, 7, 10), vec![]),
        (page(NewestFirst, None, None, 0, 0), vec![]),
    ];
    for (query, expected) in cases {
        let got = seqs(&history(&store, room, query).await);
        assert_eq!(got, expected, "history with {query:?}");
    }
}

/// A room's history holds its own messages only.
pub async fn history_is_kept_per_room(store: impl MessageStore) {
    let room = dm();
    let RoomRef::Direct(raw) = room else {
        unreachable!("a DM room")
    };
    let same_number_channel = RoomRef::Channel {
        community: CommunityId::new(unique_id()),
        channel: ChannelId::new(raw.get()),
    };
    let other_dm = dm();
    post(&store, room, ALICE, "mine").await;
    post(&store, same_number_channel, ALICE, "channel").await;
    post(&store, other_dm, ALICE, "other").await;
    post(&store, room, BOB, "mine too").await;

    let all = query(HistoryOrder::OldestFirst, None, None);
    assert_eq!(
        texts(&history(&store, room, all).await),
        ["mine", "mine too"]
    );
    assert_eq!(
        texts(&history(&store, same_number_channel, all).await),
        ["channel"]
    );
    assert_eq!(texts(&history(&store, other_dm, all).await), ["other"]);
    assert!(history(&store, dm(), all).await.is_empty());
}

/// Messages posted while a client pages back do not shift its pages: the older
/// pages neither repeat nor miss a message, and the new ones come after the newest
/// seen.
pub async fn a_page_never_repeats_or_misses_while_messages_are_posted(store: impl MessageStore) {
    let room = channel();
    post_many(&store, room, 6).await;
    let newest = HistoryQuery {
        limit: 3,
        ..query(HistoryOrder::NewestFirst, None, None)
    };

    let first_page = history(&store, room, newest).await;
    post(&store, room, BOB, "while paging 1").await;
    post(&store, room, BOB, "while paging 2").await;
    let older = history(
        &store,
        room,
        HistoryQuery {
            limit: 3,
            ..query(HistoryOrder::NewestFirst, None, Some(4))
        },
    )
    .await;
    let newer = history(
        &store,
        room,
        query(HistoryOrder::OldestFirst, Some(6), None),
    )
    .await;

    assert_eq!(seqs(&first_page), [6, 5, 4]);
    assert_eq!(seqs(&older), [3, 2, 1]);
    assert_eq!(texts(&newer), ["while paging 1", "while paging 2"]);
}

/// Unread: live messages of others after the marker (own messages and tombstones
/// do not count); the newest message gives the room's last number and time.
pub async fn activity_counts_live_messages_of_others_after_the_marker(store: impl MessageStore) {
    let room = dm();
    let reader = BOB;
    let m1 = post(&store, room, ALICE, "1").await;
    let _m2 = post(&store, room, ALICE, "2").await;
    let _own = post(&store, room, reader, "mine").await;
    let m4 = post(&store, room, ALICE, "4").await;
    let m5 = post(&store, room, ALICE, "5").await;
    store.update(&tombstone(&m4)).await.expect("delete");

    let never_read = activity(&store, room, reader, None).await;
    let read_to_first = activity(&store, room, reader, Some(m1.seq().get())).await;
    let read_all = activity(&store, room, reader, Some(m5.seq().get())).await;
    let author_view = activity(&store, room, ALICE, None).await;

    assert_eq!(never_read.unread, 3, "m1, m2, m5: not own, not deleted");
    assert_eq!(read_to_first.unread, 2, "m2 and m5");
    assert_eq!(read_all.unread, 0);
    assert_eq!(
        author_view.unread, 1,
        "only the reader's message, for Alice"
    );
    assert_eq!(
        never_read.last_seq,
        Some(m5.seq()),
        "the newest posting number, not the delete's"
    );
    assert_eq!(never_read.last_message_at, Some(m5.sent_at()));
}

/// The newest message gives the room's recency even when it was deleted.
pub async fn a_deleted_newest_message_still_dates_the_room(store: impl MessageStore) {
    let room = channel();
    post(&store, room, ALICE, "older").await;
    let newest = post(&store, room, ALICE, "newest").await;
    store.update(&tombstone(&newest)).await.expect("delete");

    let seen = activity(&store, room, BOB, None).await;

    assert_eq!(seen.last_seq, Some(newest.seq()));
    assert_eq!(seen.last_message_at, Some(newest.sent_at()));
    assert_eq!(seen.unread, 1);
}

/// The activity of many rooms at once is each room's own activity, in the order asked,
/// each with its own marker: DM rooms and channels mixed (a DM room and a channel with the
/// same number are different rooms), empty rooms included.
pub async fn activities_of_many_rooms_are_each_rooms_activity_in_the_order_asked(
    store: impl MessageStore,
) {
    let reader = BOB;
    let busy = dm();
    let number = unique_id();
    let same_number_dm = RoomRef::Direct(RoomId::new(number));
    let same_number_channel = RoomRef::Channel {
        community: CommunityId::new(unique_id()),
        channel: ChannelId::new(number),
    };
    let empty = dm();
    let b1 = post(&store, busy, ALICE, "b1").await;
    post(&store, busy, ALICE, "b2").await;
    post(&store, busy, reader, "mine").await;
    let b4 = post(&store, busy, ALICE, "b4").await;
    store.update(&tombstone(&b4)).await.expect("delete");
    let d1 = post(&store, same_number_dm, ALICE, "d1").await;
    for n in 1..=3 {
        post(&store, same_number_channel, ALICE, &format!("c{n}")).await;
    }
    let asked = [
        (empty.key(), None),
        (busy.key(), Some(b1.seq())),
        (same_number_channel.key(), None),
        (same_number_dm.key(), Some(d1.seq())),
    ];

    let together = store
        .activities(reader, &asked)
        .await
        .unwrap_or_else(|error| panic!("activities: {error:?}"));

    let mut one_by_one = Vec::new();
    for (room, marker) in asked {
        one_by_one.push(
            store
                .activity(room, reader, marker)
                .await
                .unwrap_or_else(|error| panic!("activity of {room}: {error:?}")),
        );
    }
    assert_eq!(together, one_by_one);
    let unread: Vec<u64> = together.iter().map(|a| a.unread).collect();
    assert_eq!(unread, [0, 1, 3, 0], "b2 only; c1-c3; d1 was read");
    assert_eq!(together[0], RoomActivity::default());
    assert_eq!(
        together[1].last_seq,
        Some(b4.seq()),
        "a deleted newest still dates"
    );
    assert_eq!(together[1].last_message_at, Some(b4.sent_at()));
    assert_eq!(together[3].last_seq, Some(d1.seq()));
}

/// Asking about no rooms answers nothing, and rooms nobody posted in have no activity.
pub async fn activities_of_no_rooms_or_empty_rooms_are_empty(store: impl MessageStore) {
    post(&store, dm(), ALICE, "elsewhere").await;

    let none = store.activities(BOB, &[]).await.expect("activities");
    let empty = store
        .activities(
            BOB,
            &[(dm().key(), None), (channel().key(), Some(Seq::new(4)))],
        )
        .await
        .expect("activities");

    assert!(none.is_empty());
    assert_eq!(empty, [RoomActivity::default(), RoomActivity::default()]);
}

/// A room nobody posted in has no activity.
pub async fn an_empty_room_has_no_activity(store: impl MessageStore) {
    post(&store, dm(), ALICE, "elsewhere").await;

    assert_eq!(
        activity(&store, dm(), BOB, None).await,
        RoomActivity::default()
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

//! Keyset-paginated history: pages in both directions cover a room once, bounds, skip and
//! limit combine, rooms stay apart, and paging is stable while messages are posted.

use super::{
    ALICE, BOB, ChannelId, CommunityId, HistoryOrder, HistoryQuery, MessageStore, RoomRef, channel,
    dm, history, post, post_many, query, seqs, texts, unique_id,
};

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

//! Use case: a member reads a page of a room's history.

use std::sync::Arc;

use domain::{Message, MessageId, RoomKey, Seq, UserId};

use super::access::{ensure_may_read, seq_in_room};
use crate::ports::outbound::{
    CommunityDirectory, HistoryOrder, HistoryQuery, MessageStore, StoreError,
};

/// Where the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryPosition {
    /// From the newest (or oldest, by order) end.
    Edge,
    /// Messages posted before this one.
    Before(MessageId),
    /// Messages posted after this one.
    After(MessageId),
    /// The seed's numbered pages of `limit` messages, newest page 0.
    Page(usize),
}

/// Input of [`ReadHistory`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCommand {
    /// Who reads.
    pub reader: UserId,
    /// Which room.
    pub room: RoomKey,
    /// Where the page starts.
    pub position: HistoryPosition,
    /// Which way it runs.
    pub order: HistoryOrder,
    /// How many messages, 1 to [`ReadHistory::MAX_LIMIT`].
    pub limit: usize,
}

/// Every way [`ReadHistory::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The reader is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomKey),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// The limit is outside 1 to [`ReadHistory::MAX_LIMIT`].
    #[error("limit must be between 1 and {max}, got {got}")]
    InvalidLimit {
        /// What was asked.
        got: usize,
        /// The largest page.
        max: usize,
    },
    /// A numbered page lies deeper than [`ReadHistory::MAX_SKIP`] messages: the store would
    /// have to walk past all of them. Older messages are read with `before` cursors.
    #[error(
        "page {page} of {limit} messages starts {skip} messages deep; at most {max} may be skipped (page further back with a `before` cursor)"
    )]
    PageTooDeep {
        /// The page asked for.
        page: usize,
        /// Its size.
        limit: usize,
        /// Messages it would skip.
        skip: usize,
        /// The most that may be skipped.
        max: usize,
    },
    /// The cursor message is not in this room.
    #[error("message {0} not found in this room")]
    CursorNotFound(MessageId),
    /// The store failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(HistoryError: RoomKey);
unavailable_from!(HistoryError: StoreError);

/// Reads history with keyset pagination on the room's sequence numbers.
pub struct ReadHistory {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
}

impl ReadHistory {
    /// The largest page.
    pub const MAX_LIMIT: usize = 100;

    /// The most messages a numbered page may skip (`page * limit`): 200 of the seed's pages
    /// of 50. Each skipped message is read and thrown away by the store.
    pub const MAX_SKIP: usize = 10_000;

    /// Wires the use case to its ports.
    pub fn new(directory: Arc<dyn CommunityDirectory>, store: Arc<dyn MessageStore>) -> Self {
        Self { directory, store }
    }

    async fn seq_of(&self, id: &MessageId, room: RoomKey) -> Result<Seq, HistoryError> {
        seq_in_room(&*self.store, id, room)
            .await?
            .ok_or_else(|| HistoryError::CursorNotFound(id.clone()))
    }

    /// Runs the use case.
    #[tracing::instrument(name = "read_history", skip_all, fields(room = %cmd.room, reader = %cmd.reader))]
    pub async fn execute(&self, cmd: HistoryCommand) -> Result<Vec<Message>, HistoryError> {
        if !(1..=Self::MAX_LIMIT).contains(&cmd.limit) {
            return Err(HistoryError::InvalidLimit {
                got: cmd.limit,
                max: Self::MAX_LIMIT,
            });
        }
        if let HistoryPosition::Page(page) = cmd.position {
            let skip = page.saturating_mul(cmd.limit);
            if skip > Self::MAX_SKIP {
                return Err(HistoryError::PageTooDeep {
                    page,
                    limit: cmd.limit,
                    skip,
                    max: Self::MAX_SKIP,
                });
            }
        }
        ensure_may_read(&*self.directory, cmd.reader, cmd.room).await?;
        let mut query = HistoryQuery {
            before: None,
            after: None,
            order: cmd.order,
            skip: 0,
            limit: cmd.limit,
        };
        match &cmd.position {
            HistoryPosition::Edge => {}
            HistoryPosition::Before(id) => query.before = Some(self.seq_of(id, cmd.room).await?),
            HistoryPosition::After(id) => query.after = Some(self.seq_of(id, cmd.room).await?),
            HistoryPosition::Page(page) => query.skip = page.saturating_mul(cmd.limit),
        }
        let page = self.store.history(cmd.room, query).await?;
        self.with_current_parents(page).await
    }

    /// Brings every reply's parent snapshot up to date, with one store call per page.
    async fn with_current_parents(&self, page: Vec<Message>) -> Result<Vec<Message>, HistoryError> {
        let mut parent_ids: Vec<MessageId> = page
            .iter()
            .filter_map(|m| m.parent().map(|p| p.id.clone()))
            .collect();
        if parent_ids.is_empty() {
            return Ok(page);
        }
        parent_ids.sort();
        parent_ids.dedup();
        let parents = self.store.find_many(&parent_ids).await?;
        Ok(page
            .into_iter()
            .map(|message| {
                let parent = message
                    .parent()
                    .and_then(|snapshot| parents.iter().find(|p| p.id() == &snapshot.id));
                message.with_current_parent(parent)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use domain::{Audience, ChannelId, RoomId};

    use super::*;
    use crate::usecases::test_support::{
        ALICE, CHANNEL_ID, DM, Mocks, MocksBuilder, OTHER_DM, stored,
    };

    const ROOM: RoomKey = RoomKey::Direct(RoomId::new(5));

    fn command(position: HistoryPosition, limit: usize) -> HistoryCommand {
        HistoryCommand {
            reader: ALICE,
            room: ROOM,
            position,
            order: HistoryOrder::NewestFirst,
            limit,
        }
    }

    fn use_case(m: Mocks) -> ReadHistory {
        ReadHistory::new(m.directory, m.store)
    }

    #[tokio::test]
    async fn a_numbered_page_deeper_than_the_bound_is_refused_before_the_store_is_asked() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_history().never();
        m.store.expect_find().never();

        let deepest_allowed_plus_one = ReadHistory::MAX_SKIP / 50 + 1;
        let err = use_case(m.build())
            .execute(command(HistoryPosition::Page(deepest_allowed_plus_one), 50))
            .await;

        assert!(
            matches!(err, Err(HistoryError::PageTooDeep { skip, max, .. }) if skip == 10_050 && max == 10_000),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_deepest_allowed_page_skips_exactly_the_bound() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_history()
            .withf(|_, q| q.skip == 10_000 && q.limit == 50)
            .times(1)
            .returning(|_, _| Ok(vec![]));

        let page = use_case(m.build())
            .execute(command(HistoryPosition::Page(200), 50))
            .await;

        assert!(page.is_ok(), "{page:?}");
    }

    #[tokio::test]
    async fn a_page_before_a_message_asks_the_store_for_seqs_below_that_messages() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "x"))));
        m.store
            .expect_history()
            .withf(|room, q| *room == ROOM && q.before == Some(Seq::new(1)) && q.limit == 20)
            .times(1)
            .returning(|_, _| Ok(vec![]));

        let page = use_case(m.build())
            .execute(command(
                HistoryPosition::Before(MessageId::parse("m1").expect("id")),
                20,
            ))
            .await;

        assert!(page.is_ok());
    }

    #[tokio::test]
    async fn replies_show_their_parents_current_state_with_one_lookup_per_page() {
        use domain::{ParentContent, Timestamp};
        let mut m = MocksBuilder::new().member_everywhere();
        let parent = stored("p1", ALICE, DM, "original");
        let reply = |id: &str| {
            domain::NewMessage {
                id: MessageId::parse(id).expect("id"),
                room: DM,
                author: crate::usecases::test_support::profile(ALICE),
                body: domain::MessageBody::parse("re").expect("body"),
                parent: Some(parent.snapshot_for_reply_in(DM).expect("snapshot")),
                attachment: None,
                client_msg_id: None,
                sent_at: Timestamp::from_unix_micros(2),
            }
            .stored_at(Seq::new(2))
        };
        let page = vec![reply("r1"), reply("r2")];
        m.store
            .expect_history()
            .returning(move |_, _| Ok(page.clone()));
        let tombstone = parent
            .deleted(ALICE, Timestamp::from_unix_micros(3))
            .expect("deleted");
        m.store
            .expect_find_many()
            .withf(|ids| ids.len() == 1)
            .times(1)
            .returning(move |_| Ok(vec![tombstone.clone()]));

        let page = use_case(m.build())
            .execute(command(HistoryPosition::Edge, 20))
            .await
            .expect("page");

        assert!(
            page.iter()
                .all(|m| m.parent().map(|p| &p.content) == Some(&ParentContent::Deleted))
        );
    }

    #[tokio::test]
    async fn seed_pages_skip_whole_pages() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_history()
            .withf(|_, q| q.skip == 100 && q.limit == 50)
            .times(1)
            .returning(|_, _| Ok(vec![]));

        assert!(
            use_case(m.build())
                .execute(command(HistoryPosition::Page(2), 50))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_cursor_from_another_room_is_not_found() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, OTHER_DM, "x"))));
        m.store.expect_history().never();

        let err = use_case(m.build())
            .execute(command(
                HistoryPosition::After(MessageId::parse("m1").expect("id")),
                20,
            ))
            .await;

        assert!(matches!(err, Err(HistoryError::CursorNotFound(_))));
    }

    #[tokio::test]
    async fn a_non_member_cannot_read_history() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_history().never();

        let err = use_case(m.build())
            .execute(command(HistoryPosition::Edge, 20))
            .await;

        assert!(matches!(err, Err(HistoryError::Forbidden(room)) if room == ROOM));
    }

    #[tokio::test]
    async fn a_limit_outside_one_to_a_hundred_is_refused() {
        for limit in [0, 101] {
            let m = MocksBuilder::new().member_everywhere();
            let err = use_case(m.build())
                .execute(command(HistoryPosition::Edge, limit))
                .await;
            assert!(
                matches!(err, Err(HistoryError::InvalidLimit { .. })),
                "{limit}"
            );
        }
    }

    #[tokio::test]
    async fn the_history_of_a_channel_no_source_places_is_refused_as_unknown() {
        let mut m = MocksBuilder::new();
        m.channel_12_of_community_3();
        m.directory.expect_may_listen().returning(|_, audience| {
            // Only the open directory answers yes for an unplaced channel; this one does not.
            Ok(!matches!(audience, Audience::Group(_)))
        });
        m.store.expect_history().never();

        let err = use_case(m.build())
            .execute(HistoryCommand {
                room: RoomKey::Channel(ChannelId::new(99)),
                ..command(HistoryPosition::Edge, 20)
            })
            .await;

        assert!(
            matches!(err, Err(HistoryError::UnknownChannel(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_non_member_of_the_channels_community_cannot_read_its_history() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_history().never();

        let err = use_case(m.build())
            .execute(HistoryCommand {
                room: RoomKey::Channel(CHANNEL_ID),
                ..command(HistoryPosition::Edge, 20)
            })
            .await;

        assert!(matches!(err, Err(HistoryError::Forbidden(_))), "{err:?}");
    }
}

//! Use case: a member who saw a room up to one seq catches up with what it missed
//! (a STOMP subscription with `x-since-seq`), or is told to reload its history when
//! it missed more than can be replayed.

use std::sync::Arc;

use domain::{ChatEvent, RoomKey, Seq, UserId, catch_up_all};

use super::access::ensure_may_read;
use crate::ports::outbound::{CommunityDirectory, MessageStore, StoreError};

/// Input of [`ReplayRoom`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayCommand {
    /// Who catches up.
    pub reader: UserId,
    /// Which room.
    pub room: RoomKey,
    /// The last seq the reader has seen (0: none).
    pub seen: Seq,
    /// The most events replayed; beyond it, a gap.
    pub limit: usize,
}

/// What the reader gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The events missed, in the room's order, then live events after `through`.
    Events {
        /// The missed events, by increasing seq.
        events: Vec<ChatEvent>,
        /// The seq the reader is caught up to: the last replayed event's, or what it
        /// had seen when there is nothing to replay (at most the room's newest seq).
        through: Seq,
    },
    /// More than the limit was missed, or events the store no longer holds: the reader
    /// reloads from the history (what remains of it), and live events continue after `to`.
    Gap {
        /// The first seq missed.
        from: Seq,
        /// The room's newest seq when the replay was read.
        to: Seq,
    },
}

impl Replay {
    /// The seq live delivery continues after.
    pub fn through(&self) -> Seq {
        match self {
            Self::Events { through, .. } => *through,
            Self::Gap { to, .. } => *to,
        }
    }
}

/// Every way [`ReplayRoom::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The reader is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomKey),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// The store failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(ReplayError: RoomKey);
unavailable_from!(ReplayError: StoreError);

/// Replays a room's events since a seq, from the store.
pub struct ReplayRoom {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
}

impl ReplayRoom {
    /// Wires the use case to its ports.
    pub fn new(directory: Arc<dyn CommunityDirectory>, store: Arc<dyn MessageStore>) -> Self {
        Self { directory, store }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "replay_room", skip_all, fields(room = %cmd.room, reader = %cmd.reader, seen = %cmd.seen))]
    pub async fn execute(&self, cmd: ReplayCommand) -> Result<Replay, ReplayError> {
        // The membership answer is usually cached, as the subscription just asked it.
        ensure_may_read(&*self.directory, cmd.reader, cmd.room).await?;
        let since = self
            .store
            .events_since(cmd.room, cmd.seen, cmd.limit)
            .await?;
        let newest = since.last_seq.unwrap_or(Seq::new(0));
        let Some(changed) = since.changed else {
            return Ok(Replay::Gap {
                from: cmd.seen.next(),
                to: newest.max(cmd.seen),
            });
        };
        let events = catch_up_all(
            cmd.seen,
            changed.into_iter().map(|c| (c.message, c.last_change)),
        );
        // A reader ahead of the room (its store was reset) continues from the room's
        // newest seq, so new events reach it.
        let through = events
            .last()
            .and_then(ChatEvent::seq)
            .unwrap_or_else(|| cmd.seen.min(newest));
        Ok(Replay::Events { events, through })
    }
}

#[cfg(test)]
mod tests {
    use domain::{MessageBody, RoomId, Timestamp};

    use super::*;
    use crate::ports::outbound::{ChangedMessage, RoomChanges};
    use crate::usecases::test_support::{ALICE, DM, Mocks, MocksBuilder, store_down, stored};

    const ROOM: RoomKey = RoomKey::Direct(RoomId::new(5));

    fn command(seen: u64) -> ReplayCommand {
        ReplayCommand {
            reader: ALICE,
            room: ROOM,
            seen: Seq::new(seen),
            limit: 3,
        }
    }

    fn use_case(m: Mocks) -> ReplayRoom {
        ReplayRoom::new(m.directory, m.store)
    }

    fn posted_at(id: &str, seq: u64) -> ChangedMessage {
        let mut parts = stored(id, ALICE, DM, "hi").parts().clone();
        parts.seq = Seq::new(seq);
        ChangedMessage {
            message: domain::Message::from_parts(parts),
            last_change: None,
        }
    }

    fn seqs(replay: &Replay) -> Vec<u64> {
        match replay {
            Replay::Events { events, .. } => events
                .iter()
                .filter_map(ChatEvent::seq)
                .map(Seq::get)
                .collect(),
            Replay::Gap { .. } => panic!("a gap: {replay:?}"),
        }
    }

    #[tokio::test]
    async fn missed_posts_and_edits_come_back_in_the_rooms_order() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_events_since()
            .withf(|room, after, limit| *room == ROOM && *after == Seq::new(4) && *limit == 3)
            .times(1)
            .returning(|_, _, _| {
                let mut edited = posted_at("old", 2);
                edited.message = edited
                    .message
                    .edited(
                        ALICE,
                        MessageBody::parse("new").expect("body"),
                        Timestamp::from_unix_micros(5),
                    )
                    .expect("edit");
                edited.last_change = Some(Seq::new(6));
                Ok(RoomChanges {
                    changed: Some(vec![posted_at("b", 7), edited, posted_at("a", 5)]),
                    last_seq: Some(Seq::new(7)),
                })
            });

        let replay = use_case(m.build())
            .execute(command(4))
            .await
            .expect("replay");

        assert_eq!(seqs(&replay), [5, 6, 7]);
        assert_eq!(replay.through(), Seq::new(7));
        let Replay::Events { events, .. } = replay else {
            unreachable!()
        };
        assert!(matches!(events[1], ChatEvent::Edited { .. }), "{events:?}");
    }

    #[tokio::test]
    async fn more_missed_than_the_limit_is_a_gap_up_to_the_rooms_newest_seq() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_events_since().returning(|_, _, _| {
            Ok(RoomChanges {
                changed: None,
                last_seq: Some(Seq::new(40)),
            })
        });

        let replay = use_case(m.build())
            .execute(command(4))
            .await
            .expect("replay");

        assert_eq!(
            replay,
            Replay::Gap {
                from: Seq::new(5),
                to: Seq::new(40)
            }
        );
    }

    #[tokio::test]
    async fn nothing_missed_continues_after_the_seen_seq_or_the_rooms_newest_if_lower() {
        for (seen, newest, through) in [(4, 6, 4), (9, 6, 6)] {
            let mut m = MocksBuilder::new().member_everywhere();
            m.store.expect_events_since().returning(move |_, _, _| {
                Ok(RoomChanges {
                    changed: Some(vec![]),
                    last_seq: Some(Seq::new(newest)),
                })
            });

            let replay = use_case(m.build())
                .execute(command(seen))
                .await
                .expect("replay");

            assert_eq!(
                replay,
                Replay::Events {
                    events: vec![],
                    through: Seq::new(through)
                }
            );
        }
    }

    #[tokio::test]
    async fn a_non_member_is_refused_before_the_store_is_read() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_events_since().never();

        let replay = use_case(m.build()).execute(command(0)).await;

        assert!(
            matches!(replay, Err(ReplayError::Forbidden(ROOM))),
            "{replay:?}"
        );
    }

    #[tokio::test]
    async fn a_store_failure_is_unavailable() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_events_since()
            .returning(|_, _, _| Err(store_down()));

        let replay = use_case(m.build()).execute(command(0)).await;

        assert!(
            matches!(replay, Err(ReplayError::Unavailable(_))),
            "{replay:?}"
        );
    }
}

//! Use case: may one more message change be made in this room now?

use std::sync::Arc;

use domain::{RoomRef, UserId};

use crate::ports::outbound::{Admission, CommunityDirectory, RateLimiter};
use crate::usecases::admit_request::{OUTAGE_RETRY_AFTER, RateLimited};

/// Spends one message change (a post, reply, edit, delete or file message) from the room's
/// allowance, which everyone posting there shares: however many users take part, a room
/// costs its subscribers no more than its allowance. This comes on top of each poster's
/// own write allowance ([`super::AdmitRequest`]).
///
/// The room is keyed by [`RoomRef::key`], so a channel named with another community than
/// its own still spends the channel's one allowance. As for users, a limiter that cannot
/// answer refuses the change (logged, retry in [`OUTAGE_RETRY_AFTER`]).
///
/// Only a poster who may post in the room spends its allowance: anyone else is let through
/// uncharged, to be refused by the use case that follows, so outsiders cannot use up a
/// room's allowance and silence its members.
pub struct AdmitRoomWrite {
    limiter: Arc<dyn RateLimiter>,
    directory: Arc<dyn CommunityDirectory>,
}

impl AdmitRoomWrite {
    /// Wires the use case to the limiter and the directory of who may post where.
    pub fn new(limiter: Arc<dyn RateLimiter>, directory: Arc<dyn CommunityDirectory>) -> Self {
        Self { limiter, directory }
    }

    /// Runs the use case for a change `poster` makes in `room`.
    pub async fn execute(&self, poster: UserId, room: RoomRef) -> Result<(), RateLimited> {
        // A directory that cannot answer charges nothing either: the use case fails closed.
        if !self.directory.may_post(poster, room).await.unwrap_or(false) {
            return Ok(());
        }
        match self.limiter.admit_room(room.key()).await {
            Ok(Admission::Allowed) => Ok(()),
            Ok(Admission::Limited { retry_after }) => {
                tracing::info!(%room, "room rate limited");
                Err(RateLimited { retry_after })
            }
            Err(error) => {
                tracing::warn!(%room, ?error, "rate limiter unavailable; room write refused");
                Err(RateLimited {
                    retry_after: OUTAGE_RETRY_AFTER,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use domain::{ChannelId, RoomKey};

    use super::*;
    use crate::ports::outbound::LimiterError;
    use crate::usecases::test_support::{ALICE, BOB, CHANNEL, DM, MocksBuilder, OTHER_COMMUNITY};

    #[tokio::test]
    async fn a_room_within_its_allowance_is_admitted() {
        let mut m = MocksBuilder::new();
        m.directory.expect_may_post().returning(|_, _| Ok(true));
        m.limiter
            .expect_admit_room()
            .withf(|room| *room == DM.key())
            .times(1)
            .returning(|_| Ok(Admission::Allowed));
        let m = m.build();

        let result = AdmitRoomWrite::new(m.limiter, m.directory)
            .execute(ALICE, DM)
            .await;

        assert_eq!(result, Ok(()));
    }

    #[tokio::test]
    async fn a_room_over_its_allowance_is_refused_with_when_to_retry() {
        let mut m = MocksBuilder::new();
        m.directory.expect_may_post().returning(|_, _| Ok(true));
        m.limiter.expect_admit_room().returning(|_| {
            Ok(Admission::Limited {
                retry_after: Duration::from_millis(40),
            })
        });
        let m = m.build();

        let result = AdmitRoomWrite::new(m.limiter, m.directory)
            .execute(ALICE, DM)
            .await;

        assert_eq!(
            result,
            Err(RateLimited {
                retry_after: Duration::from_millis(40)
            })
        );
    }

    #[tokio::test]
    async fn a_limiter_outage_refuses_the_room_write_instead_of_letting_it_through() {
        let mut m = MocksBuilder::new();
        m.directory.expect_may_post().returning(|_, _| Ok(true));
        m.limiter
            .expect_admit_room()
            .returning(|_| Err(LimiterError::Unavailable(anyhow::anyhow!("down"))));
        let m = m.build();

        let result = AdmitRoomWrite::new(m.limiter, m.directory)
            .execute(ALICE, CHANNEL)
            .await;

        assert_eq!(
            result,
            Err(RateLimited {
                retry_after: OUTAGE_RETRY_AFTER
            })
        );
    }

    #[tokio::test]
    async fn a_channel_spends_one_allowance_whichever_community_the_client_names() {
        let mut m = MocksBuilder::new();
        m.directory.expect_may_post().returning(|_, _| Ok(true));
        m.limiter
            .expect_admit_room()
            .withf(|room| *room == RoomKey::Channel(ChannelId::new(12)))
            .times(2)
            .returning(|_| Ok(Admission::Allowed));
        m.limiter.expect_admit().never();
        let m = m.build();
        let admit = AdmitRoomWrite::new(m.limiter, m.directory);
        let misnamed = RoomRef::Channel {
            community: OTHER_COMMUNITY,
            channel: ChannelId::new(12),
        };

        assert_eq!(admit.execute(ALICE, CHANNEL).await, Ok(()));
        assert_eq!(admit.execute(ALICE, misnamed).await, Ok(()));
    }

    #[tokio::test]
    async fn an_outsider_spends_nothing_of_a_rooms_allowance() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_may_post()
            .withf(|user, room| *user == BOB && *room == DM)
            .returning(|_, _| Ok(false));
        m.limiter.expect_admit_room().never();
        let m = m.build();

        let result = AdmitRoomWrite::new(m.limiter, m.directory)
            .execute(BOB, DM)
            .await;

        assert_eq!(result, Ok(()), "let through, for the use case to refuse");
    }
}

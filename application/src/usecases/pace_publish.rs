//! Use case: slow a message's source while this instance's delivery of its room is behind.
//!
//! Under more load than delivery can carry, the readers of a room must not be the ones who
//! pay (dropped as slow consumers while the server is the slow one): a SEND that would add
//! to a room whose delivery is behind waits for it, and past its patience is refused as
//! overloaded. The sender's connection reads nothing more while its SENDs wait, so the
//! back-pressure reaches its socket.

use std::sync::Arc;
use std::time::Duration;

use domain::RoomRef;

use crate::ports::outbound::DeliveryBacklog;

/// Delivery of the room stayed behind for the whole wait: retry later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("server busy; retry in {} ms", retry_after.as_millis())]
pub struct Overloaded {
    /// When a retry has a fair chance: the wait that just ran out.
    pub retry_after: Duration,
}

/// Waits, at most `patience`, until the room's delivery has room for one more event.
pub struct PacePublish {
    backlog: Arc<dyn DeliveryBacklog>,
    patience: Duration,
}

impl PacePublish {
    /// Wires the use case to the backlog it watches and the longest a SEND waits.
    pub fn new(backlog: Arc<dyn DeliveryBacklog>, patience: Duration) -> Self {
        Self { backlog, patience }
    }

    /// Runs the use case for one event about to be added to `room`.
    pub async fn execute(&self, room: RoomRef) -> Result<(), Overloaded> {
        if self
            .backlog
            .wait_for_room(room.audience(), self.patience)
            .await
        {
            Ok(())
        } else {
            Err(Overloaded {
                retry_after: self.patience.max(Duration::from_millis(100)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::Audience;

    use super::*;
    use crate::ports::outbound::MockDeliveryBacklog;
    use crate::usecases::test_support::DM;

    const PATIENCE: Duration = Duration::from_millis(1500);

    fn backlog(has_room: bool) -> Arc<MockDeliveryBacklog> {
        let mut backlog = MockDeliveryBacklog::new();
        backlog
            .expect_wait_for_room()
            .withf(|audience, patience| {
                *audience == Audience::Direct(domain::RoomId::new(5)) && *patience == PATIENCE
            })
            .times(1)
            .return_const(has_room);
        Arc::new(backlog)
    }

    #[tokio::test]
    async fn a_room_whose_delivery_keeps_up_lets_the_message_through() {
        let pace = PacePublish::new(backlog(true), PATIENCE);

        assert_eq!(pace.execute(DM).await, Ok(()));
    }

    #[tokio::test]
    async fn a_room_still_behind_after_the_wait_refuses_the_message_as_overloaded() {
        let pace = PacePublish::new(backlog(false), PATIENCE);

        assert_eq!(
            pace.execute(DM).await,
            Err(Overloaded {
                retry_after: PATIENCE
            })
        );
    }
}

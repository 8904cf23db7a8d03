//! Use case: the state server reports users who left a voice channel; their
//! community (or DM room) hears it.

use std::sync::Arc;

use domain::{ChatEvent, VoiceLeave};

use crate::ports::outbound::{BusError, EventBus};

/// Every way [`AnnounceVoiceLeave::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum VoiceLeaveCommandError {
    /// The bus did not accept the event.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(VoiceLeaveCommandError: BusError);

/// Publishes a voice leave to every instance.
pub struct AnnounceVoiceLeave {
    bus: Arc<dyn EventBus>,
}

impl AnnounceVoiceLeave {
    /// Wires the use case to the bus.
    pub fn new(bus: Arc<dyn EventBus>) -> Self {
        Self { bus }
    }

    /// Runs the use case.
    pub async fn execute(&self, leave: VoiceLeave) -> Result<(), VoiceLeaveCommandError> {
        Ok(self.bus.publish(&ChatEvent::VoiceLeft(leave)).await?)
    }
}

#[cfg(test)]
mod tests {
    use domain::{Audience, Location, RoomId, UserId};

    use super::*;
    use crate::usecases::test_support::MocksBuilder;

    #[tokio::test]
    async fn a_dm_voice_leave_is_published_for_the_dm_room() {
        let mut m = MocksBuilder::new();
        m.bus
            .expect_publish()
            .withf(|e| e.audiences() == vec![Audience::Direct(RoomId::new(5))])
            .times(1)
            .returning(|_| Ok(()));
        let m = m.build();
        let leave = VoiceLeave::new(None, Location::Room(RoomId::new(5)), vec![UserId::new(4)])
            .expect("valid");

        assert!(AnnounceVoiceLeave::new(m.bus).execute(leave).await.is_ok());
    }
}

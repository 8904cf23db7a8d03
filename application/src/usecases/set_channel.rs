//! Use case: the community service registers which community a channel belongs to.

use std::sync::Arc;

use domain::{ChannelId, CommunityId};

use crate::ports::outbound::{CommunityDirectory, DirectoryError};

/// Every way [`SetChannel::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum SetChannelError {
    /// The directory could not record it.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(SetChannelError: DirectoryError);

/// Places a channel in a community, replacing what was known (the only way a binding changes).
pub struct SetChannel {
    directory: Arc<dyn CommunityDirectory>,
}

impl SetChannel {
    /// Wires the use case to the directory.
    pub fn new(directory: Arc<dyn CommunityDirectory>) -> Self {
        Self { directory }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "set_channel", skip_all, fields(%channel, %community))]
    pub async fn execute(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), SetChannelError> {
        self.directory.set_channel(channel, community).await?;
        tracing::info!("channel registered by the community service");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::MocksBuilder;

    #[tokio::test]
    async fn a_registered_channel_is_recorded_in_the_directory() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_set_channel()
            .withf(|channel, community| {
                *channel == ChannelId::new(12) && *community == CommunityId::new(3)
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let m = m.build();

        let result = SetChannel::new(m.directory)
            .execute(ChannelId::new(12), CommunityId::new(3))
            .await;

        assert!(result.is_ok());
    }
}

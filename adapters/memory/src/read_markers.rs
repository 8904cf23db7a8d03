//! Read markers in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use application::ports::outbound::{MarkerError, ReadMarkers};
use domain::{RoomKey, Seq, UserId};

use crate::lock;

/// The embedded read-marker store.
#[derive(Debug, Default)]
pub struct MemoryReadMarkers {
    markers: Mutex<HashMap<(UserId, RoomKey), Seq>>,
}

#[async_trait::async_trait]
impl ReadMarkers for MemoryReadMarkers {
    async fn mark_read(&self, user: UserId, room: RoomKey, seq: Seq) -> Result<(), MarkerError> {
        let mut markers = lock(&self.markers);
        let marker = markers.entry((user, room)).or_insert(seq);
        *marker = (*marker).max(seq);
        Ok(())
    }

    async fn read_up_to(&self, user: UserId, room: RoomKey) -> Result<Option<Seq>, MarkerError> {
        Ok(lock(&self.markers).get(&(user, room)).copied())
    }

    async fn read_up_to_many(
        &self,
        user: UserId,
        rooms: &[RoomKey],
    ) -> Result<Vec<Option<Seq>>, MarkerError> {
        let markers = lock(&self.markers);
        Ok(rooms
            .iter()
            .map(|room| markers.get(&(user, *room)).copied())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;

    #[tokio::test]
    async fn a_marker_only_moves_forward() {
        let markers = MemoryReadMarkers::default();
        let (user, room) = (UserId::new(1), RoomKey::Direct(RoomId::new(5)));
        assert_eq!(markers.read_up_to(user, room).await.expect("read"), None);

        markers
            .mark_read(user, room, Seq::new(5))
            .await
            .expect("marked");
        markers
            .mark_read(user, room, Seq::new(3))
            .await
            .expect("marked");

        assert_eq!(
            markers.read_up_to(user, room).await.expect("read"),
            Some(Seq::new(5))
        );
    }
}

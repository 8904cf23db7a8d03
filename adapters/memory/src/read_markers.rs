//! Read markers in memory, at most [`MAX_MARKERS`] of them: users and rooms are what clients
//! name, so the least recently used tenth is forgotten when the map is full. A forgotten marker
//! reads as none: that room counts as unread again (what the store still holds of it).

use std::sync::Mutex;

use application::ports::outbound::{MarkerError, ReadMarkers};
use domain::{RoomKey, Seq, UserId};

use crate::lock;
use crate::recent_map::RecentMap;

/// Markers kept (a user's in one room each): 40 to 80 bytes apiece, so at most about 40 MB.
const MAX_MARKERS: usize = 500_000;

/// The embedded read-marker store.
#[derive(Debug)]
pub struct MemoryReadMarkers {
    markers: Mutex<RecentMap<(UserId, RoomKey), Seq>>,
}

impl MemoryReadMarkers {
    /// A store keeping at most `capacity` markers.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            markers: Mutex::new(RecentMap::new(capacity)),
        }
    }
}

impl Default for MemoryReadMarkers {
    fn default() -> Self {
        Self::with_capacity(MAX_MARKERS)
    }
}

#[async_trait::async_trait]
impl ReadMarkers for MemoryReadMarkers {
    async fn mark_read(&self, user: UserId, room: RoomKey, seq: Seq) -> Result<(), MarkerError> {
        let mut markers = lock(&self.markers);
        let (marker, _) = markers.use_or_insert_with((user, room), || seq);
        *marker = (*marker).max(seq);
        Ok(())
    }

    async fn read_up_to(&self, user: UserId, room: RoomKey) -> Result<Option<Seq>, MarkerError> {
        Ok(lock(&self.markers).get_mut(&(user, room)).map(|seq| *seq))
    }

    async fn read_up_to_many(
        &self,
        user: UserId,
        rooms: &[RoomKey],
    ) -> Result<Vec<Option<Seq>>, MarkerError> {
        let mut markers = lock(&self.markers);
        Ok(rooms
            .iter()
            .map(|room| markers.get_mut(&(user, *room)).map(|seq| *seq))
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

    #[tokio::test]
    async fn a_full_store_forgets_the_markers_used_least_recently() {
        let markers = MemoryReadMarkers::with_capacity(10);
        let user = UserId::new(1);
        let room = |n: u64| RoomKey::Direct(RoomId::new(n));
        for n in 0..10 {
            markers
                .mark_read(user, room(n), Seq::new(n + 1))
                .await
                .expect("marked");
        }
        // Room 0 is read again, so room 1's marker is the least recently used.
        markers.read_up_to(user, room(0)).await.expect("read");

        markers
            .mark_read(user, room(10), Seq::new(3))
            .await
            .expect("marked");

        let kept = markers
            .read_up_to_many(user, &[room(0), room(1), room(2), room(10)])
            .await
            .expect("read");
        assert_eq!(
            kept,
            [
                Some(Seq::new(1)),
                None,
                Some(Seq::new(3)),
                Some(Seq::new(3))
            ]
        );
    }
}

//! The lobby: announcing a user's presence to every room they belong to.

use domain::{ChatEvent, PresenceChange, PresenceStatus, UserId};

use crate::ports::outbound::{CommunityDirectory, EventBus};

/// Publishes `status` of `user` to the user's rooms. Failures are logged, not
/// returned: a session must open and close even when the lobby cannot be told.
pub(crate) async fn announce_presence<D: CommunityDirectory + ?Sized, B: EventBus + ?Sized>(
    directory: &D,
    bus: &B,
    user: UserId,
    status: PresenceStatus,
) {
    let audiences = match directory.rooms_of(user).await {
        Ok(audiences) => audiences,
        Err(error) => {
            tracing::warn!(%user, ?error, "room list unavailable; presence not announced");
            return;
        }
    };
    if audiences.is_empty() {
        return;
    }
    let event = ChatEvent::Presence(PresenceChange {
        user,
        status,
        audiences,
    });
    if let Err(error) = bus.publish(&event).await {
        tracing::warn!(%user, ?error, "presence change not published");
    }
}

//! [`Access`]: the checks every inbound adapter makes before it serves a request.

use domain::{Audience, RoomRef, UserId};

pub use crate::ports::outbound::{RequestKind, TokenError, VerifiedToken};
use crate::usecases::{ListenError, Overloaded, RateLimited};

/// Who is calling, whether their allowance (and the room's) covers one more request, and
/// whether they may listen to an audience (a STOMP subscription, a file download).
///
/// Implemented in `crate::service`; mocked as `MockAccess`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Access: Send + Sync + 'static {
    /// Verify an access token. See [`TokenError`].
    fn authenticate(&self, token: &str) -> Result<VerifiedToken, TokenError>;
    /// Spend one request of `kind` from `user`'s allowance. See [`RateLimited`].
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<(), RateLimited>;
    /// Spend one message change (post, reply, edit, delete, file message) from `room`'s
    /// allowance, shared by everyone posting there; on top of [`Access::admit`]. See
    /// [`RateLimited`]. Only a `poster` who may post in `room` is charged.
    async fn admit_room(&self, poster: UserId, room: RoomRef) -> Result<(), RateLimited>;
    /// Waits while this instance's delivery of `room` is behind, before one more event is
    /// added to it; refused when it stays behind. See [`Overloaded`].
    async fn pace_publish(&self, room: RoomRef) -> Result<(), Overloaded>;
    /// Whether `user` may hear `audience`. See [`ListenError`].
    async fn authorize_listen(&self, user: UserId, audience: Audience) -> Result<(), ListenError>;
}

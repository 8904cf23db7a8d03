//! The [`Access`] port over its use cases.

use domain::{Audience, RoomRef, UserId};

use super::Adapters;
use crate::ports::inbound::{Access, RequestKind, TokenError, VerifiedToken};
use crate::usecases::{
    AdmitRequest, AdmitRoomWrite, Authenticate, AuthorizeListen, ListenError, Overloaded,
    PacePublish, RateLimited,
};

/// The use cases behind [`Access`].
pub(super) struct AccessUseCases {
    authenticate: Authenticate,
    admit: AdmitRequest,
    admit_room: AdmitRoomWrite,
    listen: AuthorizeListen,
    pace: PacePublish,
}

impl AccessUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            authenticate: Authenticate::new(a.tokens.clone()),
            admit: AdmitRequest::new(a.limiter.clone()),
            admit_room: AdmitRoomWrite::new(a.limiter.clone(), a.directory.clone()),
            listen: AuthorizeListen::new(a.directory.clone()),
            pace: PacePublish::new(a.backlog.clone(), a.publish_patience),
        }
    }
}

#[async_trait::async_trait]
impl Access for AccessUseCases {
    fn authenticate(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.authenticate.execute(token)
    }
    async fn admit(&self, user: UserId, kind: RequestKind) -> Result<(), RateLimited> {
        self.admit.execute(user, kind).await
    }
    async fn admit_room(&self, poster: UserId, room: RoomRef) -> Result<(), RateLimited> {
        self.admit_room.execute(poster, room).await
    }
    async fn pace_publish(&self, room: RoomRef) -> Result<(), Overloaded> {
        self.pace.execute(room).await
    }
    async fn authorize_listen(&self, user: UserId, audience: Audience) -> Result<(), ListenError> {
        self.listen.execute(user, audience).await
    }
}

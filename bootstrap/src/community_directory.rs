//! The community directory chosen by configuration: the open in-process one
//! (embedded mode) or the app's community service over HTTP (`[community]` present),
//! behind the Redis member cache when `[redis]` is present.

use adapter_community_http::HttpCommunityDirectory;
use adapter_memory::OpenCommunityDirectory;
use adapter_redis::RedisCachedDirectory;
use application::ports::outbound::{CommunityDirectory, DirectoryError};
use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};

/// One of the two directory adapters; delegates every call to it.
pub enum Directory {
    /// Anyone may use any room until a member list is set.
    Open(OpenCommunityDirectory),
    /// The community service.
    Http(Box<HttpCommunityDirectory>),
}

impl Directory {
    /// `None` when in process; else whether the community service is reachable.
    pub async fn readiness(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Open(_) => None,
            Self::Http(directory) => Some(directory.ping().await),
        }
    }
}

impl CommunityDirectory for Directory {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        match self {
            Self::Open(directory) => directory.rooms_of(user).await,
            Self::Http(directory) => directory.rooms_of(user).await,
        }
    }

    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        match self {
            Self::Open(directory) => directory.may_post(user, room).await,
            Self::Http(directory) => directory.may_post(user, room).await,
        }
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        match self {
            Self::Open(directory) => directory.may_listen(user, audience).await,
            Self::Http(directory) => directory.may_listen(user, audience).await,
        }
    }

    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        match self {
            Self::Open(directory) => directory.members_of(group).await,
            Self::Http(directory) => directory.members_of(group).await,
        }
    }

    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError> {
        match self {
            Self::Open(directory) => directory.set_members(group, members).await,
            Self::Http(directory) => directory.set_members(group, members).await,
        }
    }

    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError> {
        match self {
            Self::Open(directory) => directory.channel_community(channel).await,
            Self::Http(directory) => directory.channel_community(channel).await,
        }
    }

    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError> {
        match self {
            Self::Open(directory) => directory.set_channel(channel, community).await,
            Self::Http(directory) => directory.set_channel(channel, community).await,
        }
    }

    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        match self {
            Self::Open(directory) => directory.bind_channel(channel, community).await,
            Self::Http(directory) => directory.bind_channel(channel, community).await,
        }
    }
}

/// The directory the use cases ask: the source itself, or the source behind the Redis
/// member cache shared by every instance (`[redis]` present).
pub enum Membership {
    /// Every question goes to the source.
    Uncached(Directory),
    /// Member lists and room lists are answered from Redis when cached there.
    Cached(RedisCachedDirectory<Directory>),
}

impl Membership {
    /// The source behind the cache, if any.
    pub fn source(&self) -> &Directory {
        match self {
            Self::Uncached(directory) => directory,
            Self::Cached(cached) => cached.inner(),
        }
    }
}

impl CommunityDirectory for Membership {
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.rooms_of(user).await,
            Self::Cached(directory) => directory.rooms_of(user).await,
        }
    }

    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.may_post(user, room).await,
            Self::Cached(directory) => directory.may_post(user, room).await,
        }
    }

    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.may_listen(user, audience).await,
            Self::Cached(directory) => directory.may_listen(user, audience).await,
        }
    }

    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.members_of(group).await,
            Self::Cached(directory) => directory.members_of(group).await,
        }
    }

    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.set_members(group, members).await,
            Self::Cached(directory) => directory.set_members(group, members).await,
        }
    }

    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.channel_community(channel).await,
            Self::Cached(directory) => directory.channel_community(channel).await,
        }
    }

    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.set_channel(channel, community).await,
            Self::Cached(directory) => directory.set_channel(channel, community).await,
        }
    }

    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError> {
        match self {
            Self::Uncached(directory) => directory.bind_channel(channel, community).await,
            Self::Cached(directory) => directory.bind_channel(channel, community).await,
        }
    }
}

//! The checks room actions and reads start with: which community a channel belongs to (never
//! what the client claims), membership, and finding a message within the room a request names.

use domain::{Audience, ChannelId, MessageId, RoomKey, RoomRef, Seq, UserId};

use super::ChannelBinding;
use crate::ports::outbound::{CommunityDirectory, DirectoryError, MessageStore, StoreError};

/// Why an actor may not act in (or read) a room; `R` names the room.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccessError<R: std::fmt::Display> {
    #[error("not a member of {0}")]
    Forbidden(R),
    /// No authoritative source places the channel in the community named (or in any).
    #[error("unknown channel {0}")]
    UnknownChannel(ChannelId),
    #[error(transparent)]
    Unavailable(#[from] DirectoryError),
}

/// Succeeds when `room` is a known room (a channel of the community it names) and `user` may
/// post in it; never binds a channel (edits, deletes, typing).
pub(crate) async fn ensure_may_post<D: CommunityDirectory + ?Sized>(
    directory: &D,
    user: UserId,
    room: RoomRef,
) -> Result<(), AccessError<RoomRef>> {
    ensure_may_post_or_bind(directory, ChannelBinding::Authoritative, user, room).await
}

/// As [`ensure_may_post`], for a new message: in binding mode, a channel no source knows is
/// bound to the community named, but only once the poster is known to be its member.
pub(crate) async fn ensure_may_post_or_bind<D: CommunityDirectory + ?Sized>(
    directory: &D,
    binding: ChannelBinding,
    user: UserId,
    room: RoomRef,
) -> Result<(), AccessError<RoomRef>> {
    let RoomRef::Channel { community, channel } = room else {
        return member_may_post(directory, user, room).await;
    };
    let placed = match directory.channel_community(channel).await? {
        Some(known) => known,
        None if binding == ChannelBinding::FirstPost => {
            member_may_post(directory, user, room).await?;
            let bound = directory.bind_channel(channel, community).await?;
            return if bound == community {
                Ok(())
            } else {
                Err(AccessError::UnknownChannel(channel))
            };
        }
        // Only the open directory lets anyone use a channel nobody placed (typing before the
        // first post binds it).
        None if directory.may_listen(user, Audience::Group(channel)).await? => {
            return member_may_post(directory, user, room).await;
        }
        None => return Err(AccessError::UnknownChannel(channel)),
    };
    if placed != community {
        // Another community's channel: answered as unknown, so the refusal does not tell
        // which community it belongs to.
        return Err(AccessError::UnknownChannel(channel));
    }
    member_may_post(directory, user, room).await
}

async fn member_may_post<D: CommunityDirectory + ?Sized>(
    directory: &D,
    user: UserId,
    room: RoomRef,
) -> Result<(), AccessError<RoomRef>> {
    if directory.may_post(user, room).await? {
        Ok(())
    } else {
        Err(AccessError::Forbidden(room))
    }
}

/// Succeeds when `user` may read `room` (hear it live or read its history).
pub(crate) async fn ensure_may_read<D: CommunityDirectory + ?Sized>(
    directory: &D,
    user: UserId,
    room: RoomKey,
) -> Result<(), AccessError<RoomKey>> {
    ensure_may_hear(directory, user, room.audience())
        .await
        .map_err(|err| match err {
            AccessError::Forbidden(_) => AccessError::Forbidden(room),
            AccessError::UnknownChannel(channel) => AccessError::UnknownChannel(channel),
            AccessError::Unavailable(cause) => AccessError::Unavailable(cause),
        })
}

/// Succeeds when `user` may hear `audience`; a channel is heard by the members of the
/// community it belongs to.
pub(crate) async fn ensure_may_hear<D: CommunityDirectory + ?Sized>(
    directory: &D,
    user: UserId,
    audience: Audience,
) -> Result<(), AccessError<Audience>> {
    let group = match audience {
        Audience::Group(channel) => match directory.channel_community(channel).await? {
            Some(community) => Audience::Community(community),
            // Only the open directory lets anyone hear a channel nobody placed.
            None if directory.may_listen(user, audience).await? => return Ok(()),
            None => return Err(AccessError::UnknownChannel(channel)),
        },
        other => other,
    };
    if directory.may_listen(user, group).await? {
        Ok(())
    } else {
        Err(AccessError::Forbidden(audience))
    }
}

/// The posting sequence number of message `id`, if it is stored in `room`.
pub(crate) async fn seq_in_room<S: MessageStore + ?Sized>(
    store: &S,
    id: &MessageId,
    room: RoomKey,
) -> Result<Option<Seq>, StoreError> {
    Ok(store
        .find(id)
        .await?
        .filter(|m| m.room().key() == room)
        .map(|m| m.seq()))
}

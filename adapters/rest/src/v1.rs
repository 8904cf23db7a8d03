//! The clean API under `/api/v1`, for the app's clients (user JWT).

use std::sync::Arc;

use application::ports::inbound::{Access, HistoryOrder, Reading};
use application::usecases::{HistoryCommand, HistoryPosition};
use domain::{ChannelId, MessageId, RoomId, RoomKey, UserId};
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use crate::auth::UserToken;
use crate::dto::{
    MarkReadBody, MessageDto, MessagePage, Order, PresenceDto, PresenceList, ReadMarkerDto,
    RoomDto, RoomList, UnreadDto, UnreadList,
};
use crate::error::ApiError;
use crate::tags::ApiTags;
use crate::time_format::rfc3339;

/// Default page size of history.
const DEFAULT_LIMIT: u32 = 50;

/// The `/api/v1` operations.
pub struct UserApi {
    access: Arc<dyn Access>,
    reading: Arc<dyn Reading>,
}

impl UserApi {
    pub(crate) fn new(access: Arc<dyn Access>, reading: Arc<dyn Reading>) -> Self {
        Self { access, reading }
    }
}

fn message_id(text: &str) -> Result<MessageId, ApiError> {
    MessageId::parse(text).map_err(|e| ApiError::bad_request("invalid_message_id", e.to_string()))
}

fn room_id(raw: u64) -> Result<RoomId, ApiError> {
    RoomId::parse(&raw.to_string())
        .map_err(|e| ApiError::bad_request("invalid_room_id", e.to_string()))
}

fn channel_id(raw: u64) -> Result<ChannelId, ApiError> {
    ChannelId::parse(&raw.to_string())
        .map_err(|e| ApiError::bad_request("invalid_channel_id", e.to_string()))
}

fn position(before: Option<String>, after: Option<String>) -> Result<HistoryPosition, ApiError> {
    match (before, after) {
        (None, None) => Ok(HistoryPosition::Edge),
        (Some(before), None) => Ok(HistoryPosition::Before(message_id(&before)?)),
        (None, Some(after)) => Ok(HistoryPosition::After(message_id(&after)?)),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "invalid_cursor",
            "give `before` or `after`, not both",
        )),
    }
}

impl UserApi {
    async fn history(
        &self,
        auth: &UserToken,
        room: RoomKey,
        before: Option<String>,
        after: Option<String>,
        limit: Option<u32>,
        order: Option<Order>,
    ) -> Result<Json<MessagePage>, ApiError> {
        let reader = auth.user(&*self.access).await?;
        let order = match order.unwrap_or_default() {
            Order::Newest => HistoryOrder::NewestFirst,
            Order::Oldest => HistoryOrder::OldestFirst,
        };
        let messages = self
            .reading
            .history(HistoryCommand {
                reader,
                room,
                position: position(before, after)?,
                order,
                limit: limit.unwrap_or(DEFAULT_LIMIT) as usize,
            })
            .await?;
        Ok(Json(MessagePage {
            messages: messages.iter().map(MessageDto::from).collect(),
        }))
    }

    async fn mark(
        &self,
        auth: &UserToken,
        room: RoomKey,
        body: MarkReadBody,
    ) -> Result<Json<ReadMarkerDto>, ApiError> {
        let reader = auth.user(&*self.access).await?;
        let up_to = body.message_id.as_deref().map(message_id).transpose()?;
        let seq = self.reading.mark_read(reader, room, up_to).await?;
        Ok(Json(ReadMarkerDto {
            read_up_to: seq.map(domain::Seq::get),
        }))
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl UserApi {
    /// The caller's DM rooms and communities.
    #[oai(path = "/rooms", method = "get", tag = "ApiTags::Rooms")]
    async fn rooms(&self, auth: UserToken) -> Result<Json<RoomList>, ApiError> {
        let user = auth.user(&*self.access).await?;
        let rooms = self.reading.rooms(user).await?;
        Ok(Json(RoomList {
            rooms: rooms.into_iter().map(RoomDto::from).collect(),
        }))
    }

    /// History of a DM room, newest first by default. Page with `before` (older
    /// than that message) or `after` (newer than it): pages never repeat or skip
    /// a message, whatever is posted meanwhile. Replies carry their parent's current
    /// text or a `deleted` marker; deleted messages appear as tombstones.
    #[oai(
        path = "/direct/:room_id/messages",
        method = "get",
        tag = "ApiTags::Messages"
    )]
    async fn direct_history(
        &self,
        auth: UserToken,
        /// The DM room.
        #[oai(validator(minimum(value = "1")))]
        room_id: Path<u64>,
        /// Only messages posted before this message id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        before: Query<Option<String>>,
        /// Only messages posted after this message id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        after: Query<Option<String>>,
        /// Page size, 1 to 100 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `newest` (default) or `oldest` first.
        order: Query<Option<Order>>,
    ) -> Result<Json<MessagePage>, ApiError> {
        let room = RoomKey::Direct(self::room_id(room_id.0)?);
        self.history(&auth, room, before.0, after.0, limit.0, order.0)
            .await
    }

    /// History of a community text channel; paging as for DM rooms.
    #[oai(
        path = "/channels/:channel_id/messages",
        method = "get",
        tag = "ApiTags::Messages"
    )]
    async fn channel_history(
        &self,
        auth: UserToken,
        /// The text channel.
        #[oai(validator(minimum(value = "1")))]
        channel_id: Path<u64>,
        /// Only messages posted before this message id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        before: Query<Option<String>>,
        /// Only messages posted after this message id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        after: Query<Option<String>>,
        /// Page size, 1 to 100 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `newest` (default) or `oldest` first.
        order: Query<Option<Order>>,
    ) -> Result<Json<MessagePage>, ApiError> {
        let room = RoomKey::Channel(self::channel_id(channel_id.0)?);
        self.history(&auth, room, before.0, after.0, limit.0, order.0)
            .await
    }

    /// One message, reply or tombstone, for a member of its room.
    ///
    /// A message of a room the caller may not read is answered as missing: the same 404
    /// `message_not_found`, so ids cannot be probed.
    #[oai(
        path = "/messages/:message_id",
        method = "get",
        tag = "ApiTags::Messages"
    )]
    async fn message(
        &self,
        auth: UserToken,
        /// The message id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        message_id: Path<String>,
    ) -> Result<Json<MessageDto>, ApiError> {
        let reader = auth.user(&*self.access).await?;
        let message = self
            .reading
            .message(reader, self::message_id(&message_id.0)?)
            .await?;
        Ok(Json(MessageDto::from(&message)))
    }

    /// Unread counts of the given DM rooms and channels for the caller, most
    /// recently active room first, rooms without messages last (at most 200 rooms).
    #[oai(path = "/unread", method = "get", tag = "ApiTags::Unread")]
    async fn unread(
        &self,
        auth: UserToken,
        /// DM room ids.
        #[oai(validator(max_items = 200))]
        direct: Query<Vec<u64>>,
        /// Text channel ids.
        #[oai(validator(max_items = 200))]
        channel: Query<Vec<u64>>,
    ) -> Result<Json<UnreadList>, ApiError> {
        let reader = auth.user(&*self.access).await?;
        let mut rooms = Vec::with_capacity(direct.0.len() + channel.0.len());
        for id in direct.0 {
            rooms.push(RoomKey::Direct(room_id(id)?));
        }
        for id in channel.0 {
            rooms.push(RoomKey::Channel(channel_id(id)?));
        }
        let counted = self.reading.unread(reader, rooms).await?;
        Ok(Json(UnreadList {
            rooms: counted
                .into_iter()
                .map(|c| UnreadDto {
                    room: c.room.into(),
                    unread: c.activity.unread,
                    last_message_at: c.activity.last_message_at.map(rfc3339),
                })
                .collect(),
        }))
    }

    /// Mark a DM room read up to a message (or its newest message).
    #[oai(
        path = "/direct/:room_id/read",
        method = "put",
        tag = "ApiTags::Unread"
    )]
    async fn mark_direct_read(
        &self,
        auth: UserToken,
        /// The DM room.
        #[oai(validator(minimum(value = "1")))]
        room_id: Path<u64>,
        body: Json<MarkReadBody>,
    ) -> Result<Json<ReadMarkerDto>, ApiError> {
        let room = RoomKey::Direct(self::room_id(room_id.0)?);
        self.mark(&auth, room, body.0).await
    }

    /// Mark a text channel read up to a message (or its newest message).
    #[oai(
        path = "/channels/:channel_id/read",
        method = "put",
        tag = "ApiTags::Unread"
    )]
    async fn mark_channel_read(
        &self,
        auth: UserToken,
        /// The text channel.
        #[oai(validator(minimum(value = "1")))]
        channel_id: Path<u64>,
        body: Json<MarkReadBody>,
    ) -> Result<Json<ReadMarkerDto>, ApiError> {
        let room = RoomKey::Channel(self::channel_id(channel_id.0)?);
        self.mark(&auth, room, body.0).await
    }

    /// Whether each of the given users is online (at most 200).
    ///
    /// Only the caller and users who share a DM room or community with the caller are
    /// answered; anyone else is left out of the list.
    #[oai(path = "/presence", method = "get", tag = "ApiTags::Presence")]
    async fn presence(
        &self,
        auth: UserToken,
        /// User ids.
        #[oai(validator(max_items = 200))]
        user: Query<Vec<u64>>,
    ) -> Result<Json<PresenceList>, ApiError> {
        let caller = auth.user(&*self.access).await?;
        let users = user.0.into_iter().map(UserId::new).collect();
        let presence = self.reading.presence(caller, users).await?;
        Ok(Json(PresenceList {
            users: presence
                .into_iter()
                .map(|p| PresenceDto {
                    user_id: p.user.get(),
                    online: p.online,
                })
                .collect(),
        }))
    }
}

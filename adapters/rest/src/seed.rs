//! The seed server's endpoints under `/chat-server`, with its envelope and field
//! names, and its bugs fixed (`docs/original-system.md` §3, §10): capped page sizes, parents
//! looked up once per page with their real author, `message-count` ordered by a
//! 24-hour clock without dropping rooms, voice leaves sent to the right topic.

use std::sync::Arc;

use application::ports::inbound::{Access, HistoryOrder, Reading, Roster};
use application::usecases::{HistoryCommand, HistoryPosition};
use domain::{
    Audience, ChannelId, CommunityId, Location, Message, ParentContent, RoomId, RoomKey, UserId,
    VoiceLeave,
};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use secrecy::{ExposeSecret as _, SecretString};

use crate::auth::{ServiceToken, UserToken};
use crate::error::ApiError;
use crate::tags::ApiTags;
use crate::time_format::{seed, seed_compact};

/// What the seed's history shows for a deleted message.
const DELETED_TEXT: &str = "삭제된 메세지입니다.";
/// The seed's success code and message.
const SUCCESS_CODE: i32 = 1000;
const SUCCESS_MESSAGE: &str = "요청에 성공하였습니다.";

/// A history item in the seed's shape (`MessageResponse`).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct SeedMessage {
    /// Message id.
    id: String,
    /// Author's display name.
    name: String,
    /// Author's profile image.
    #[oai(nullable)]
    profile_image: Option<String>,
    /// Author's user id (a number, as the seed sent it).
    user_id: u64,
    /// The text (the seed's "deleted" text for a tombstone).
    message: String,
    /// File thumbnail URL (file messages).
    #[oai(nullable)]
    thumbnail: Option<String>,
    /// `reply` for replies, the file type for files, otherwise null.
    #[oai(nullable)]
    file_type: Option<String>,
    /// Always null, as in the seed.
    #[oai(rename = "type")]
    #[oai(nullable)]
    kind: Option<String>,
    /// When it was posted: UTC, no offset, milliseconds.
    time: String,
    /// The parent of a reply.
    #[oai(nullable)]
    parent_id: Option<String>,
    /// The parent's author name.
    #[oai(nullable)]
    parent_name: Option<String>,
    /// The parent's current text, or the seed's "deleted" text.
    #[oai(nullable)]
    parent_content: Option<String>,
    /// The message's place in its room.
    seq: u64,
    /// Whether the message was deleted.
    deleted: bool,
}

impl From<&Message> for SeedMessage {
    fn from(m: &Message) -> Self {
        let parent = m.parent();
        Self {
            id: m.id().to_string(),
            name: m.author().name.clone(),
            profile_image: m.author().image.clone(),
            user_id: m.author().id.get(),
            message: m.body().map_or(DELETED_TEXT, |b| b.as_str()).to_owned(),
            thumbnail: m
                .attachment()
                .and_then(|a| a.thumbnail.as_ref())
                .map(|t| t.as_str().to_owned()),
            file_type: match (m.attachment(), parent) {
                (Some(a), _) => Some(a.file_type.as_str().to_owned()),
                (None, Some(_)) => Some("reply".to_owned()),
                (None, None) => None,
            },
            kind: None,
            time: seed(m.sent_at()),
            parent_id: parent.map(|p| p.id.to_string()),
            parent_name: parent.map(|p| p.author_name.clone()),
            parent_content: parent.map(|p| match &p.content {
                ParentContent::Text(text) => text.clone(),
                ParentContent::Deleted => DELETED_TEXT.to_owned(),
            }),
            seq: m.seq().get(),
            deleted: m.is_deleted(),
        }
    }
}

/// The seed's envelope around a history page.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct SeedHistoryEnvelope {
    /// Always true on success.
    is_success: bool,
    /// 1000 on success.
    code: i32,
    /// The seed's success message.
    message: String,
    /// The page, oldest first.
    result: Vec<SeedMessage>,
}

/// The seed's envelope without a result.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct SeedOkEnvelope {
    /// Always true on success.
    is_success: bool,
    /// 1000 on success.
    code: i32,
    /// The seed's success message.
    message: String,
}

impl SeedOkEnvelope {
    pub(crate) fn ok() -> Json<Self> {
        Json(Self {
            is_success: true,
            code: SUCCESS_CODE,
            message: SUCCESS_MESSAGE.to_owned(),
        })
    }
}

/// Body of `message-count`.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct MessageCountRequest {
    /// Whose unread counts.
    #[oai(validator(minimum(value = "1")))]
    user_id: u64,
    /// DM room ids (at most 200).
    #[oai(validator(max_items = 200))]
    room_ids: Vec<u64>,
}

/// One room of `message-count`'s answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct MessageCount {
    /// The DM room.
    room_id: u64,
    /// Unread messages of others.
    count: u64,
    /// The newest message's time as `yyyyMMddHHmmssSSS` (24-hour clock); null for an empty room.
    #[oai(nullable)]
    local_date_time: Option<String>,
}

/// Body of `PUT /chat-server/channel/{channelId}` (sent by the community service).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct ChannelRegistration {
    /// The community the channel belongs to.
    #[oai(validator(minimum(value = "1")))]
    community_id: u64,
}

/// Body of the `signaling-list-*` endpoints (sent by the state server).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct SignalingRequest {
    /// `out` (users left).
    #[oai(rename = "type")]
    kind: Option<String>,
    /// The community (community voice channels).
    community_id: Option<String>,
    /// `c-{channelId}` for a community voice channel, `r-{roomId}` for a DM call.
    #[oai(validator(max_length = 32))]
    channel_id: String,
    /// Ids of the users who left, as strings.
    #[oai(validator(max_items = 1000))]
    ids: Vec<String>,
}

/// The `/chat-server` operations.
pub struct SeedApi {
    access: Arc<dyn Access>,
    reading: Arc<dyn Reading>,
    roster: Arc<dyn Roster>,
    service_token: SecretString,
}

impl SeedApi {
    pub(crate) fn new(
        access: Arc<dyn Access>,
        reading: Arc<dyn Reading>,
        roster: Arc<dyn Roster>,
        service_token: SecretString,
    ) -> Self {
        Self {
            access,
            reading,
            roster,
            service_token,
        }
    }
}

fn ids<T>(raw: &[u64], parse: fn(&str) -> Result<T, domain::IdError>) -> Result<Vec<T>, ApiError> {
    raw.iter()
        .map(|id| {
            parse(&id.to_string()).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
        })
        .collect()
}

impl SeedApi {
    async fn page(
        &self,
        auth: &UserToken,
        room: RoomKey,
        page: u32,
        size: u32,
    ) -> Result<Json<SeedHistoryEnvelope>, ApiError> {
        let reader = auth.user(&*self.access).await?;
        let mut messages = self
            .reading
            .history(HistoryCommand {
                reader,
                room,
                position: HistoryPosition::Page(page as usize),
                order: HistoryOrder::NewestFirst,
                limit: size as usize,
            })
            .await?;
        // The seed returns each page oldest first.
        messages.reverse();
        Ok(Json(SeedHistoryEnvelope {
            is_success: true,
            code: SUCCESS_CODE,
            message: SUCCESS_MESSAGE.to_owned(),
            result: messages.iter().map(SeedMessage::from).collect(),
        }))
    }

    async fn replace_members(
        &self,
        auth: &ServiceToken,
        group: Audience,
        members: &[u64],
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        auth.check(self.service_token.expose_secret())?;
        let members = ids(members, UserId::parse)?;
        self.roster.set_members(group, members).await?;
        Ok(SeedOkEnvelope::ok())
    }

    async fn voice_leave(
        &self,
        auth: &ServiceToken,
        community: Option<CommunityId>,
        body: SignalingRequest,
    ) -> Result<(), ApiError> {
        auth.check(self.service_token.expose_secret())?;
        if body.kind.as_deref().is_some_and(|kind| kind != "out") {
            return Err(ApiError::unprocessable(
                "invalid_type",
                "type must be `out`",
            ));
        }
        let location = Location::parse(&body.channel_id)
            .map_err(|e| ApiError::unprocessable("invalid_location", e.to_string()))?;
        let users = body
            .ids
            .iter()
            .map(|id| UserId::parse(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::unprocessable("invalid_user_id", e.to_string()))?;
        let leave = VoiceLeave::new(community, location, users)
            .map_err(|e| ApiError::unprocessable("invalid_location", e.to_string()))?;
        Ok(self.roster.voice_leave(leave).await?)
    }
}

#[OpenApi(prefix_path = "/chat-server")]
impl SeedApi {
    /// A page of a DM room's history in the seed's shape: page 0 is the newest
    /// `size` messages, each page oldest first.
    #[oai(path = "/direct", method = "get", tag = "ApiTags::Seed")]
    async fn direct(
        &self,
        auth: UserToken,
        /// The DM room.
        #[oai(validator(minimum(value = "1")))]
        ch_id: Query<u64>,
        /// Page number, 0 = newest; `page × size` may not exceed 10000 (400 `page_too_deep`).
        #[oai(default)]
        page: Query<u32>,
        /// Page size, 1 to 100 (default 50).
        #[oai(
            default = "default_size",
            validator(minimum(value = "1"), maximum(value = "100"))
        )]
        size: Query<u32>,
    ) -> Result<Json<SeedHistoryEnvelope>, ApiError> {
        let room = RoomId::parse(&ch_id.0.to_string())
            .map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
        self.page(&auth, RoomKey::Direct(room), page.0, size.0)
            .await
    }

    /// A page of a community text channel's history in the seed's shape.
    #[oai(path = "/community", method = "get", tag = "ApiTags::Seed")]
    async fn community(
        &self,
        auth: UserToken,
        /// The text channel.
        #[oai(validator(minimum(value = "1")))]
        ch_id: Query<u64>,
        /// Page number, 0 = newest; `page × size` may not exceed 10000 (400 `page_too_deep`).
        #[oai(default)]
        page: Query<u32>,
        /// Page size, 1 to 100 (default 50).
        #[oai(
            default = "default_size",
            validator(minimum(value = "1"), maximum(value = "100"))
        )]
        size: Query<u32>,
    ) -> Result<Json<SeedHistoryEnvelope>, ApiError> {
        let channel = ChannelId::parse(&ch_id.0.to_string())
            .map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
        self.page(&auth, RoomKey::Channel(channel), page.0, size.0)
            .await
    }

    /// Unread counts of a user's DM rooms (called by the community service):
    /// rooms by newest message first, then rooms without messages. A bare array,
    /// as the seed answered.
    #[oai(path = "/message-count", method = "post", tag = "ApiTags::Seed")]
    async fn message_count(
        &self,
        auth: ServiceToken,
        body: Json<MessageCountRequest>,
    ) -> Result<Json<Vec<MessageCount>>, ApiError> {
        auth.check(self.service_token.expose_secret())?;
        let reader = UserId::parse(&body.0.user_id.to_string())
            .map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
        let rooms = ids(&body.0.room_ids, RoomId::parse)?
            .into_iter()
            .map(RoomKey::Direct)
            .collect();
        let counted = self.reading.unread(reader, rooms).await?;
        Ok(Json(
            counted
                .into_iter()
                .map(|c| MessageCount {
                    room_id: match c.room {
                        RoomKey::Direct(room) => room.get(),
                        RoomKey::Channel(channel) => channel.get(),
                    },
                    count: c.activity.unread,
                    local_date_time: c.activity.last_message_at.map(seed_compact),
                })
                .collect(),
        ))
    }

    /// Replace the member list of a DM room (called by the community service when
    /// membership changes). Members are then the only users who may use the room.
    #[oai(
        path = "/room-user-list/:room_id",
        method = "put",
        tag = "ApiTags::Seed"
    )]
    async fn room_user_list(
        &self,
        auth: ServiceToken,
        /// The DM room.
        #[oai(validator(minimum(value = "1")))]
        room_id: Path<u64>,
        /// The member user ids.
        body: Json<Vec<u64>>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        let room = ids(&[room_id.0], RoomId::parse)?.remove(0);
        self.replace_members(&auth, Audience::Direct(room), &body.0)
            .await
    }

    /// Replace the member list of a community (called by the community service).
    #[oai(
        path = "/community-user-list/:community_id",
        method = "put",
        tag = "ApiTags::Seed"
    )]
    async fn community_user_list(
        &self,
        auth: ServiceToken,
        /// The community.
        #[oai(validator(minimum(value = "1")))]
        community_id: Path<u64>,
        /// The member user ids.
        body: Json<Vec<u64>>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        let community = ids(&[community_id.0], CommunityId::parse)?.remove(0);
        self.replace_members(&auth, Audience::Community(community), &body.0)
            .await
    }

    /// Register which community a channel (text or voice) belongs to (called by the community
    /// service when a channel is created, or moved). Only the community's members may then
    /// use the channel; this is the only way to change a channel's community, whatever was
    /// looked up or bound before.
    #[oai(path = "/channel/:channel_id", method = "put", tag = "ApiTags::Seed")]
    async fn channel(
        &self,
        auth: ServiceToken,
        /// The channel.
        #[oai(validator(minimum(value = "1")))]
        channel_id: Path<u64>,
        /// Its community.
        body: Json<ChannelRegistration>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        auth.check(self.service_token.expose_secret())?;
        let channel = ids(&[channel_id.0], ChannelId::parse)?.remove(0);
        let community = ids(&[body.0.community_id], CommunityId::parse)?.remove(0);
        self.roster.set_channel(channel, community).await?;
        Ok(SeedOkEnvelope::ok())
    }

    /// Users left a community voice channel (called by the state server): the
    /// community hears `{"type":"out","communityId":…,"channelId":"c-…","ids":[…]}`.
    #[oai(
        path = "/signaling-list-community",
        method = "post",
        tag = "ApiTags::Seed"
    )]
    async fn signaling_list_community(
        &self,
        auth: ServiceToken,
        body: Json<SignalingRequest>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        let community = body
            .0
            .community_id
            .as_deref()
            .map(CommunityId::parse)
            .transpose()
            .map_err(|e| ApiError::unprocessable("invalid_community_id", e.to_string()))?
            .ok_or_else(|| {
                ApiError::unprocessable("invalid_community_id", "communityId is required")
            })?;
        self.voice_leave(&auth, Some(community), body.0).await?;
        Ok(SeedOkEnvelope::ok())
    }

    /// Users left a DM call (called by the state server): the DM room hears the
    /// `out` event (the seed sent it to `/topic/community/null`).
    #[oai(
        path = "/signaling-list-direct",
        method = "post",
        tag = "ApiTags::Seed"
    )]
    async fn signaling_list_direct(
        &self,
        auth: ServiceToken,
        body: Json<SignalingRequest>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        self.voice_leave(&auth, None, body.0).await?;
        Ok(SeedOkEnvelope::ok())
    }
}

fn default_size() -> u32 {
    50
}

//! File uploads: the seed's `POST /chat-server/file` and `/chat-server/channel/file`,
//! and the clean `POST /api/v1/direct/{room}/files` and
//! `/api/v1/communities/{community}/channels/{channel}/files`. All take the user JWT;
//! the author is the token's user (the seed's `userId`, `name` and `profileImage`
//! fields are ignored).

use std::sync::Arc;

use application::ports::inbound::{Access, FileSharing};
use application::usecases::FileCommand;
use domain::{ChannelId, CommunityId, RoomId, RoomRef};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, OpenApi};

use crate::auth::UserToken;
use crate::dto::MessageDto;
use crate::error::ApiError;
use crate::seed::SeedOkEnvelope;
use crate::settings::RestSettings;
use crate::tags::ApiTags;
use crate::upload::{ReadForm, StreamedForm};
use crate::upload_slots::UploadSlots;

/// The seed's upload form (`FileUploadRequest`), documented; read by [`StreamedForm`].
#[derive(Debug, Multipart)]
#[oai(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct SeedFileForm {
    /// The file (any name; the server names it).
    image: Upload,
    /// Its preview image; kept for `image` and `video` files only.
    thumbnail: Option<Upload>,
    /// `image`, `video` or another file type clients render as a download.
    file_type: String,
    /// The DM room, or the text channel.
    channel_id: String,
    /// The community of the channel (channel uploads, unless `type` is `direct`).
    community_id: Option<String>,
    /// `direct` or `community`: on `/chat-server/channel/file`, `direct` means `channelId` is a DM room
    /// (the seed's iOS client posts DM files there).
    #[oai(rename = "type")]
    kind: Option<String>,
    /// Ignored: the author is the token's user.
    user_id: Option<String>,
    /// Ignored: the display name comes from the user directory.
    name: Option<String>,
    /// Ignored: the profile image comes from the user directory.
    profile_image: Option<String>,
}

/// The clean upload form, documented; read by [`StreamedForm`].
#[derive(Debug, Multipart)]
#[oai(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct FileForm {
    /// The file.
    file: Upload,
    /// Its preview image; kept for `image` and `video` files only.
    thumbnail: Option<Upload>,
    /// `image`, `video` or another file type; default: `image` or `video` from the
    /// file's media type, else `file`.
    file_type: Option<String>,
}

/// A file message was created.
#[derive(Debug, ApiResponse)]
pub(crate) enum Created {
    /// The stored message; `content` is the file's URL.
    #[oai(status = 201)]
    Created(Json<MessageDto>),
}

/// The file upload operations.
pub struct FileApi {
    access: Arc<dyn Access>,
    file_sharing: Arc<dyn FileSharing>,
    max_file_bytes: u64,
    slots: UploadSlots,
    room_first: bool,
}

impl FileApi {
    pub(crate) fn new(
        access: Arc<dyn Access>,
        file_sharing: Arc<dyn FileSharing>,
        settings: &RestSettings,
    ) -> Self {
        Self {
            access,
            file_sharing,
            max_file_bytes: settings.max_file_bytes,
            slots: UploadSlots::new(settings.max_concurrent_uploads),
            room_first: settings.upload_room_first,
        }
    }
}

/// The seed's form named (or changed) its room after the file.
fn room_after_file() -> ApiError {
    ApiError::bad_request(
        "room_after_file",
        "the form must name its room (`type`, `channelId`, `communityId`) before the file",
    )
}

fn is_missing_field(err: &ApiError) -> bool {
    matches!(err, ApiError::BadRequest(body) if body.0.code == "missing_field")
}

fn id<T>(
    field: &str,
    text: &str,
    parse: fn(&str) -> Result<T, domain::IdError>,
) -> Result<T, ApiError> {
    parse(text).map_err(|e| ApiError::bad_request(&format!("invalid_{field}"), e.to_string()))
}

impl FileApi {
    /// Reads the form and posts the file in `room` (or the room the form names).
    /// Membership, then the room's allowance of message changes, are checked as soon as
    /// the room is known: before any file part is written to disk (for the seed's forms,
    /// unless `upload_room_first` is off and the form names its room after the file).
    async fn post(
        &self,
        auth: &UserToken,
        form: StreamedForm<impl Send>,
        file_field: &str,
        room: impl Fn(&ReadForm) -> Result<RoomRef, ApiError> + Send,
        default_type: bool,
    ) -> Result<domain::Message, ApiError> {
        let author = auth.uploader(&*self.access).await?;
        let _slot = self.slots.acquire(author)?;
        let file_fields = [file_field, "thumbnail"];
        let mut reader = form.reader(&file_fields, self.max_file_bytes);
        reader.read_fields().await?;
        let checked = match room(reader.form()) {
            Ok(room) => Some(room),
            Err(err) if reader.ended() || !is_missing_field(&err) => return Err(err),
            Err(_) if self.room_first => return Err(room_after_file()),
            Err(_) => None,
        };
        if let Some(room) = checked {
            self.file_sharing
                .authorize_file(author, room)
                .await
                .inspect_err(|err| tracing::info!(error = %err, "file upload refused"))?;
            self.access.admit_room(author, room).await?;
        }
        let mut form = reader.finish().await?;
        let room = room(&form)?;
        match checked {
            Some(checked) if checked != room => return Err(room_after_file()),
            Some(_) => {}
            None => self.access.admit_room(author, room).await?,
        }
        let file = form.take_file(file_field).ok_or_else(|| {
            ApiError::bad_request(
                "missing_field",
                format!("the file `{file_field}` is required"),
            )
        })?;
        let file_type = match form.text("fileType") {
            Some(kind) => kind.to_owned(),
            None if default_type => file.default_file_type().to_owned(),
            None => {
                return Err(ApiError::bad_request(
                    "missing_field",
                    "`fileType` is required",
                ));
            }
        };
        let thumbnail = form.take_file("thumbnail");
        let message = self
            .file_sharing
            .post_file(FileCommand {
                author,
                room,
                file_type,
                file: file.into_incoming(),
                thumbnail: thumbnail.map(crate::upload::SpooledFile::into_incoming),
            })
            .await
            .inspect_err(|err| tracing::info!(error = %err, "file upload refused"))?;
        Ok(message)
    }
}

#[OpenApi]
impl FileApi {
    /// The seed's DM file upload: stores the file (and an image's or video's thumbnail),
    /// then a file message in DM room `channelId`, published to `/topic/direct/{channelId}`.
    /// The form must name its room before the file (400 `room_after_file`): membership is
    /// checked before the file is read (403). 413 over the size limits (a file, or the
    /// whole upload), 415 for a media type not accepted, 429 over the write allowance (the
    /// user's, or the room's) or with too many uploads in progress, 503 when storage is down.
    #[oai(path = "/chat-server/file", method = "post", tag = "ApiTags::Seed")]
    async fn seed_direct_file(
        &self,
        auth: UserToken,
        form: StreamedForm<SeedFileForm>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        let direct = |form: &ReadForm| {
            Ok(RoomRef::Direct(id(
                "channel_id",
                form.required("channelId")?,
                RoomId::parse,
            )?))
        };
        self.post(&auth, form, "image", direct, false).await?;
        Ok(SeedOkEnvelope::ok())
    }

    /// The seed's channel file upload: as `/chat-server/file`, in text channel `channelId` of
    /// community `communityId` (published to `/topic/group/{channelId}`); with `type=direct`
    /// `channelId` is a DM room instead, as the seed's iOS client sends DM files.
    #[oai(
        path = "/chat-server/channel/file",
        method = "post",
        tag = "ApiTags::Seed"
    )]
    async fn seed_channel_file(
        &self,
        auth: UserToken,
        form: StreamedForm<SeedFileForm>,
    ) -> Result<Json<SeedOkEnvelope>, ApiError> {
        let channel = |form: &ReadForm| {
            let channel = form.required("channelId")?;
            if form.text("type") == Some("direct") {
                return Ok(RoomRef::Direct(id("channel_id", channel, RoomId::parse)?));
            }
            Ok(RoomRef::Channel {
                community: id(
                    "community_id",
                    form.required("communityId")?,
                    CommunityId::parse,
                )?,
                channel: id("channel_id", channel, ChannelId::parse)?,
            })
        };
        self.post(&auth, form, "image", channel, false).await?;
        Ok(SeedOkEnvelope::ok())
    }

    /// Share a file in a DM room: multipart `file` (+ optional `thumbnail`, `fileType`).
    /// Returns the file message (`content` and `file.thumbnail` are download links that
    /// expire). 403 for non-members, before the file is read; 413 over the size limits
    /// (a file, or the whole upload), 415 for a media type not accepted, 429 over the
    /// write allowance (the user's, or the room's) or with too many uploads in progress,
    /// 503 when storage is down.
    #[oai(
        path = "/api/v1/direct/:room_id/files",
        method = "post",
        tag = "ApiTags::Messages"
    )]
    async fn direct_file(
        &self,
        auth: UserToken,
        /// The DM room.
        #[oai(validator(minimum(value = "1")))]
        room_id: Path<u64>,
        form: StreamedForm<FileForm>,
    ) -> Result<Created, ApiError> {
        let room = RoomRef::Direct(id("room_id", &room_id.0.to_string(), RoomId::parse)?);
        let message = self.post(&auth, form, "file", |_| Ok(room), true).await?;
        Ok(Created::Created(Json(MessageDto::from(&message))))
    }

    /// Share a file in a community text channel; as for DM rooms.
    #[oai(
        path = "/api/v1/communities/:community_id/channels/:channel_id/files",
        method = "post",
        tag = "ApiTags::Messages"
    )]
    async fn channel_file(
        &self,
        auth: UserToken,
        /// The community.
        #[oai(validator(minimum(value = "1")))]
        community_id: Path<u64>,
        /// The text channel.
        #[oai(validator(minimum(value = "1")))]
        channel_id: Path<u64>,
        form: StreamedForm<FileForm>,
    ) -> Result<Created, ApiError> {
        let room = RoomRef::Channel {
            community: id(
                "community_id",
                &community_id.0.to_string(),
                CommunityId::parse,
            )?,
            channel: id("channel_id", &channel_id.0.to_string(), ChannelId::parse)?,
        };
        let message = self.post(&auth, form, "file", |_| Ok(room), true).await?;
        Ok(Created::Created(Json(MessageDto::from(&message))))
    }
}

//! The JSON shapes of every [`ChatEvent`] on the bus (the envelope's `payload`), and their
//! mapping to and from the domain. The domain has no serde: these shapes belong to this adapter.
//!
//! Numeric ids are JSON numbers, instants are microseconds since the Unix epoch, rooms are
//! tagged objects and audiences the text the record keys use (`direct/5`).

use std::collections::BTreeMap;

use domain::{
    Attachment, Audience, ChannelId, ChatEvent, ClientMsgId, CommunityId, FileType, FileUrl,
    Location, Message, MessageBody, MessageId, MessageParts, MessageState, ParentContent,
    ParentSnapshot, PresenceChange, PresenceStatus, RoomId, RoomRef, Seq, Timestamp, Typing,
    UserId, UserProfile, VoiceLeave, VoiceOccupancy,
};
use serde::{Deserialize, Serialize};

/// A payload that is valid JSON of the right shape but not a valid domain value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvalidPayload {
    /// An id the domain refuses.
    #[error(transparent)]
    Id(#[from] domain::IdError),
    /// A message text the domain refuses.
    #[error(transparent)]
    Body(#[from] domain::MessageBodyError),
    /// A file URL or file type the domain refuses.
    #[error(transparent)]
    Attachment(#[from] domain::AttachmentError),
    /// A client message key the domain refuses.
    #[error(transparent)]
    ClientMsgId(#[from] domain::ClientMsgIdError),
    /// A location label the domain refuses.
    #[error(transparent)]
    Location(#[from] domain::LocationError),
    /// A voice leave whose location does not fit its community.
    #[error(transparent)]
    VoiceLeave(#[from] domain::VoiceLeaveError),
    /// An audience that is not `direct/<id>`, `group/<id>` or `community/<id>`.
    #[error("`{0}` is not an audience")]
    Audience(String),
}

/// A room: `{"type":"direct","room":5}` or `{"type":"channel","community":3,"channel":12}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RoomDto {
    Direct { room: u64 },
    Channel { community: u64, channel: u64 },
}

impl From<RoomRef> for RoomDto {
    fn from(room: RoomRef) -> Self {
        match room {
            RoomRef::Direct(room) => Self::Direct { room: room.get() },
            RoomRef::Channel { community, channel } => Self::Channel {
                community: community.get(),
                channel: channel.get(),
            },
        }
    }
}

impl From<RoomDto> for RoomRef {
    fn from(room: RoomDto) -> Self {
        match room {
            RoomDto::Direct { room } => Self::Direct(RoomId::new(room)),
            RoomDto::Channel { community, channel } => Self::Channel {
                community: CommunityId::new(community),
                channel: ChannelId::new(channel),
            },
        }
    }
}

/// A user as shown: `{"id":1,"name":"alice","image":null}`.
#[derive(Debug, Serialize, Deserialize)]
struct ProfileDto {
    id: u64,
    name: String,
    image: Option<String>,
}

impl From<&UserProfile> for ProfileDto {
    fn from(profile: &UserProfile) -> Self {
        Self {
            id: profile.id.get(),
            name: profile.name.clone(),
            image: profile.image.clone(),
        }
    }
}

impl From<ProfileDto> for UserProfile {
    fn from(profile: ProfileDto) -> Self {
        Self {
            id: UserId::new(profile.id),
            name: profile.name,
            image: profile.image,
        }
    }
}

/// Live text or tombstone: `{"type":"live","body":"hi","edited_at":null}` or
/// `{"type":"deleted","at":…}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StateDto {
    Live {
        body: String,
        edited_at: Option<i64>,
    },
    Deleted {
        at: i64,
    },
}

/// What a reply shows of its parent; `text` is null when the parent was deleted.
#[derive(Debug, Serialize, Deserialize)]
struct ParentDto {
    id: String,
    author: u64,
    author_name: String,
    text: Option<String>,
}

/// What a file message adds: the seed's `fileType` and the thumbnail's URL.
#[derive(Debug, Serialize, Deserialize)]
struct AttachmentDto {
    file_type: String,
    thumbnail: Option<String>,
}

/// A stored message, every field of [`MessageParts`].
#[derive(Debug, Serialize, Deserialize)]
struct MessageDto {
    id: String,
    room: RoomDto,
    author: ProfileDto,
    state: StateDto,
    parent: Option<ParentDto>,
    /// Absent in records of versions before file messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachment: Option<AttachmentDto>,
    /// The sender's key; absent when it gave none (and in records of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_msg_id: Option<String>,
    sent_at: i64,
    seq: u64,
}

impl From<&Message> for MessageDto {
    fn from(message: &Message) -> Self {
        let parts = message.parts();
        Self {
            id: parts.id.as_str().to_owned(),
            room: parts.room.into(),
            author: (&parts.author).into(),
            state: match &parts.state {
                MessageState::Live { body, edited_at } => StateDto::Live {
                    body: body.as_str().to_owned(),
                    edited_at: edited_at.map(Timestamp::unix_micros),
                },
                MessageState::Deleted { at } => StateDto::Deleted {
                    at: at.unix_micros(),
                },
            },
            parent: parts.parent.as_ref().map(|parent| ParentDto {
                id: parent.id.as_str().to_owned(),
                author: parent.author.get(),
                author_name: parent.author_name.clone(),
                text: match &parent.content {
                    ParentContent::Text(text) => Some(text.clone()),
                    ParentContent::Deleted => None,
                },
            }),
            attachment: parts.attachment.as_ref().map(|a| AttachmentDto {
                file_type: a.file_type.as_str().to_owned(),
                thumbnail: a.thumbnail.as_ref().map(|t| t.as_str().to_owned()),
            }),
            client_msg_id: parts
                .client_msg_id
                .as_ref()
                .map(|key| key.as_str().to_owned()),
            sent_at: parts.sent_at.unix_micros(),
            seq: parts.seq.get(),
        }
    }
}

impl TryFrom<MessageDto> for Message {
    type Error = InvalidPayload;

    fn try_from(dto: MessageDto) -> Result<Self, Self::Error> {
        let state = match dto.state {
            StateDto::Live { body, edited_at } => MessageState::Live {
                body: MessageBody::parse(&body)?,
                edited_at: edited_at.map(Timestamp::from_unix_micros),
            },
            StateDto::Deleted { at } => MessageState::Deleted {
                at: Timestamp::from_unix_micros(at),
            },
        };
        let parent = match dto.parent {
            Some(parent) => Some(ParentSnapshot {
                id: MessageId::parse(&parent.id)?,
                author: UserId::new(parent.author),
                author_name: parent.author_name,
                content: parent
                    .text
                    .map_or(ParentContent::Deleted, ParentContent::Text),
            }),
            None => None,
        };
        let attachment = match dto.attachment {
            Some(a) => Some(Attachment {
                file_type: FileType::parse(&a.file_type)?,
                thumbnail: a.thumbnail.as_deref().map(FileUrl::parse).transpose()?,
            }),
            None => None,
        };
        Ok(Self::from_parts(MessageParts {
            id: MessageId::parse(&dto.id)?,
            room: dto.room.into(),
            author: dto.author.into(),
            state,
            parent,
            attachment,
            client_msg_id: dto
                .client_msg_id
                .as_deref()
                .map(ClientMsgId::parse)
                .transpose()?,
            sent_at: Timestamp::from_unix_micros(dto.sent_at),
            seq: Seq::new(dto.seq),
        }))
    }
}

/// An edit or a delete: the message after it, and its place in the room.
#[derive(Debug, Serialize, Deserialize)]
struct ChangeDto {
    message: MessageDto,
    seq: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct TypingDto {
    room: RoomDto,
    user: ProfileDto,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StatusDto {
    Online,
    Offline,
}

/// `{"user":1,"status":"online","audiences":["direct/5","community/3"]}`.
#[derive(Debug, Serialize, Deserialize)]
struct PresenceDto {
    user: u64,
    status: StatusDto,
    audiences: Vec<String>,
}

/// `{"community":3,"location":"c-12","users":[1,4]}`; `community` is null for a DM call.
#[derive(Debug, Serialize, Deserialize)]
struct VoiceLeftDto {
    community: Option<u64>,
    location: String,
    users: Vec<u64>,
}

/// `{"community":3,"channels":{"12":[1,4],"13":[]}}`.
#[derive(Debug, Serialize, Deserialize)]
struct VoiceOccupancyDto {
    community: u64,
    channels: BTreeMap<u64, Vec<u64>>,
}

/// The envelope's `kind` of an event.
pub(crate) fn kind(event: &ChatEvent) -> &'static str {
    match event {
        ChatEvent::Posted(_) => "posted",
        ChatEvent::Edited { .. } => "edited",
        ChatEvent::Deleted { .. } => "deleted",
        ChatEvent::Typing(_) => "typing",
        ChatEvent::Presence(_) => "presence",
        ChatEvent::VoiceLeft(_) => "voice_left",
        ChatEvent::VoiceOccupancy(_) => "voice_occupancy",
    }
}

/// The payload of an event, as JSON.
pub(crate) fn to_json(event: &ChatEvent) -> Result<serde_json::Value, serde_json::Error> {
    match event {
        ChatEvent::Posted(message) => serde_json::to_value(MessageDto::from(message)),
        ChatEvent::Edited { message, seq } | ChatEvent::Deleted { message, seq } => {
            serde_json::to_value(ChangeDto {
                message: message.into(),
                seq: seq.get(),
            })
        }
        ChatEvent::Typing(typing) => serde_json::to_value(TypingDto {
            room: typing.room.into(),
            user: (&typing.user).into(),
        }),
        ChatEvent::Presence(change) => serde_json::to_value(PresenceDto {
            user: change.user.get(),
            status: match change.status {
                PresenceStatus::Online => StatusDto::Online,
                PresenceStatus::Offline => StatusDto::Offline,
            },
            audiences: change.audiences.iter().map(ToString::to_string).collect(),
        }),
        ChatEvent::VoiceLeft(leave) => serde_json::to_value(VoiceLeftDto {
            community: leave.community().map(CommunityId::get),
            location: leave.location().to_string(),
            users: leave.users().iter().map(|user| user.get()).collect(),
        }),
        ChatEvent::VoiceOccupancy(occupancy) => serde_json::to_value(VoiceOccupancyDto {
            community: occupancy.community.get(),
            channels: occupancy
                .channels
                .iter()
                .map(|(channel, users)| (channel.get(), users.iter().map(|u| u.get()).collect()))
                .collect(),
        }),
    }
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PayloadError {
    /// The kind is not one this version knows.
    #[error("unknown kind `{0}`")]
    UnknownKind(String),
    /// The JSON does not have the kind's shape.
    #[error("payload of kind `{kind}` does not have its shape")]
    Shape {
        /// The envelope's kind.
        kind: String,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The shape is right but a value is not valid.
    #[error("payload of kind `{kind}` holds an invalid value")]
    Invalid {
        /// The envelope's kind.
        kind: String,
        /// Which value.
        #[source]
        source: InvalidPayload,
    },
}

/// The event a payload of `kind` describes.
pub(crate) fn from_json(kind: &str, payload: serde_json::Value) -> Result<ChatEvent, PayloadError> {
    fn shape<T: serde::de::DeserializeOwned>(
        kind: &str,
        payload: serde_json::Value,
    ) -> Result<T, PayloadError> {
        serde_json::from_value(payload).map_err(|source| PayloadError::Shape {
            kind: kind.to_owned(),
            source,
        })
    }
    let event = match kind {
        "posted" => Message::try_from(shape::<MessageDto>(kind, payload)?).map(ChatEvent::Posted),
        "edited" => {
            let change = shape::<ChangeDto>(kind, payload)?;
            Message::try_from(change.message).map(|message| ChatEvent::Edited {
                message,
                seq: Seq::new(change.seq),
            })
        }
        "deleted" => {
            let change = shape::<ChangeDto>(kind, payload)?;
            Message::try_from(change.message).map(|message| ChatEvent::Deleted {
                message,
                seq: Seq::new(change.seq),
            })
        }
        "typing" => {
            let typing = shape::<TypingDto>(kind, payload)?;
            Ok(ChatEvent::Typing(Typing {
                room: typing.room.into(),
                user: typing.user.into(),
            }))
        }
        "presence" => presence(shape(kind, payload)?),
        "voice_left" => voice_left(shape(kind, payload)?),
        "voice_occupancy" => {
            let occupancy = shape::<VoiceOccupancyDto>(kind, payload)?;
            Ok(ChatEvent::VoiceOccupancy(VoiceOccupancy {
                community: CommunityId::new(occupancy.community),
                channels: occupancy
                    .channels
                    .into_iter()
                    .map(|(channel, users)| {
                        (
                            ChannelId::new(channel),
                            users.into_iter().map(UserId::new).collect(),
                        )
                    })
                    .collect(),
            }))
        }
        unknown => return Err(PayloadError::UnknownKind(unknown.to_owned())),
    };
    event.map_err(|source| PayloadError::Invalid {
        kind: kind.to_owned(),
        source,
    })
}

fn presence(dto: PresenceDto) -> Result<ChatEvent, InvalidPayload> {
    let audiences = dto
        .audiences
        .into_iter()
        .map(|text| parse_audience(&text).ok_or(InvalidPayload::Audience(text)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChatEvent::Presence(PresenceChange {
        user: UserId::new(dto.user),
        status: match dto.status {
            StatusDto::Online => PresenceStatus::Online,
            StatusDto::Offline => PresenceStatus::Offline,
        },
        audiences,
    }))
}

fn voice_left(dto: VoiceLeftDto) -> Result<ChatEvent, InvalidPayload> {
    let leave = VoiceLeave::new(
        dto.community.map(CommunityId::new),
        Location::parse(&dto.location)?,
        dto.users.into_iter().map(UserId::new).collect(),
    )?;
    Ok(ChatEvent::VoiceLeft(leave))
}

/// Reads an audience as [`Audience`]'s `Display` writes it.
fn parse_audience(text: &str) -> Option<Audience> {
    let (kind, id) = text.split_once('/')?;
    let id: u64 = id.parse().ok()?;
    match kind {
        "direct" => Some(Audience::Direct(RoomId::new(id))),
        "group" => Some(Audience::Group(ChannelId::new(id))),
        "community" => Some(Audience::Community(CommunityId::new(id))),
        _ => None,
    }
}

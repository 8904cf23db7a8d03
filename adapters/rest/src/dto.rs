//! Wire shapes of the clean API (`/api/v1`), and their mapping from the domain.

use domain::{Audience, Message, MessageState, ParentContent, RoomKey};
use poem_openapi::{Enum, Object};

use crate::time_format::rfc3339;

/// Kinds of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub(crate) enum RoomKind {
    /// A direct-message room.
    Direct,
    /// A community text channel.
    Channel,
    /// A community (for room lists).
    Community,
}

/// A room or community.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub(crate) struct RoomDto {
    /// What kind.
    pub(crate) kind: RoomKind,
    /// Its id.
    pub(crate) id: u64,
}

impl From<Audience> for RoomDto {
    fn from(audience: Audience) -> Self {
        let (kind, id) = match audience {
            Audience::Direct(room) => (RoomKind::Direct, room.get()),
            Audience::Group(channel) => (RoomKind::Channel, channel.get()),
            Audience::Community(community) => (RoomKind::Community, community.get()),
        };
        Self { kind, id }
    }
}

impl From<RoomKey> for RoomDto {
    fn from(room: RoomKey) -> Self {
        room.audience().into()
    }
}

/// The caller's rooms.
#[derive(Debug, Object)]
pub(crate) struct RoomList {
    /// DM rooms and communities.
    pub(crate) rooms: Vec<RoomDto>,
}

/// A message's author as shown when it was posted.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct AuthorDto {
    /// User id.
    pub(crate) id: u64,
    /// Display name.
    pub(crate) name: String,
    /// Profile image URL.
    #[oai(nullable)]
    pub(crate) profile_image: Option<String>,
}

/// What a reply shows of its parent.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct ParentDto {
    /// The parent message.
    pub(crate) id: String,
    /// Its author's id.
    pub(crate) author_id: u64,
    /// Its author's name.
    pub(crate) author_name: String,
    /// Its current text; absent when deleted.
    #[oai(nullable)]
    pub(crate) content: Option<String>,
    /// Whether the parent was deleted.
    pub(crate) deleted: bool,
}

/// A message, reply or tombstone.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct MessageDto {
    /// Message id.
    pub(crate) id: String,
    /// Where it was posted.
    pub(crate) room: RoomDto,
    /// Its place in the room (increasing by one per stored room event).
    pub(crate) seq: u64,
    /// Who wrote it.
    pub(crate) author: AuthorDto,
    /// The text; absent when deleted.
    #[oai(nullable)]
    pub(crate) content: Option<String>,
    /// When it was posted (RFC 3339, UTC).
    pub(crate) sent_at: String,
    /// When it was last edited.
    #[oai(nullable)]
    pub(crate) edited_at: Option<String>,
    /// Whether it was deleted (only the tombstone remains).
    pub(crate) deleted: bool,
    /// When it was deleted.
    #[oai(nullable)]
    pub(crate) deleted_at: Option<String>,
    /// For a reply: its parent.
    #[oai(skip_serializing_if_is_none)]
    pub(crate) parent: Option<ParentDto>,
    /// For a file message (whose `content` is the file's URL): its type and thumbnail.
    #[oai(skip_serializing_if_is_none)]
    pub(crate) file: Option<FileDto>,
    /// The sender's key for it (the `client-msg-id` of the SEND that posted it), if it
    /// gave one: a client matches its optimistic message by it after a reload.
    #[oai(skip_serializing_if_is_none)]
    pub(crate) client_msg_id: Option<String>,
}

/// What a file message shares besides its URL.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct FileDto {
    /// `image`, `video` or another file type.
    pub(crate) file_type: String,
    /// The preview image's URL.
    #[oai(nullable)]
    pub(crate) thumbnail: Option<String>,
}

impl From<&Message> for MessageDto {
    fn from(message: &Message) -> Self {
        let (content, edited_at, deleted_at) = match message.state() {
            MessageState::Live { body, edited_at } => {
                (Some(body.as_str().to_owned()), edited_at.map(rfc3339), None)
            }
            MessageState::Deleted { at } => (None, None, Some(rfc3339(*at))),
        };
        Self {
            id: message.id().to_string(),
            room: message.room().key().into(),
            seq: message.seq().get(),
            author: AuthorDto {
                id: message.author().id.get(),
                name: message.author().name.clone(),
                profile_image: message.author().image.clone(),
            },
            content,
            sent_at: rfc3339(message.sent_at()),
            edited_at,
            deleted: deleted_at.is_some(),
            deleted_at,
            parent: message.parent().map(|p| ParentDto {
                id: p.id.to_string(),
                author_id: p.author.get(),
                author_name: p.author_name.clone(),
                content: match &p.content {
                    ParentContent::Text(text) => Some(text.clone()),
                    ParentContent::Deleted => None,
                },
                deleted: p.content == ParentContent::Deleted,
            }),
            file: message.attachment().map(|a| FileDto {
                file_type: a.file_type.as_str().to_owned(),
                thumbnail: a.thumbnail.as_ref().map(|t| t.as_str().to_owned()),
            }),
            client_msg_id: message.client_msg_id().map(|key| key.as_str().to_owned()),
        }
    }
}

/// A page of history.
#[derive(Debug, Object)]
pub(crate) struct MessagePage {
    /// The messages, in the order asked.
    pub(crate) messages: Vec<MessageDto>,
}

/// Which way a history page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[oai(rename_all = "lowercase")]
pub(crate) enum Order {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
}

/// The unread count of one room.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct UnreadDto {
    /// The room.
    pub(crate) room: RoomDto,
    /// Messages of others the caller has not read.
    pub(crate) unread: u64,
    /// When the room's newest message was posted.
    #[oai(nullable)]
    pub(crate) last_message_at: Option<String>,
}

/// Unread counts, most recently active room first.
#[derive(Debug, Object)]
pub(crate) struct UnreadList {
    /// One entry per room asked for.
    pub(crate) rooms: Vec<UnreadDto>,
}

/// Where to put the read marker.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct MarkReadBody {
    /// Read up to and including this message; the room's newest when absent.
    #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub(crate) message_id: Option<String>,
}

/// Where the read marker now is.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct ReadMarkerDto {
    /// The `seq` of the last message read; absent for an empty room.
    #[oai(nullable)]
    pub(crate) read_up_to: Option<u64>,
}

/// One user's presence.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct PresenceDto {
    /// The user.
    pub(crate) user_id: u64,
    /// Whether any of their sessions is open.
    pub(crate) online: bool,
}

/// Presence of the users asked for, in the order asked.
#[derive(Debug, Object)]
pub(crate) struct PresenceList {
    /// One entry per user.
    pub(crate) users: Vec<PresenceDto>,
}

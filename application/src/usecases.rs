//! One use case per file: a command, its error, the interactor and its tests.

/// `impl From<PortError> for UseCaseError` mapping each port failure to `Unavailable`.
macro_rules! unavailable_from {
    ($target:ty: $($source:ty),+) => {
        $(impl From<$source> for $target {
            fn from(err: $source) -> Self {
                Self::Unavailable(err.into())
            }
        })+
    };
}

/// `impl From<AccessError> for UseCaseError`: not a member becomes `Forbidden`, a channel no
/// authoritative source places `UnknownChannel`, a directory failure `Unavailable`.
macro_rules! forbidden_from_access {
    ($target:ty) => {
        forbidden_from_access!($target: domain::RoomRef);
    };
    ($target:ty: $room:ty) => {
        impl From<super::access::AccessError<$room>> for $target {
            fn from(err: super::access::AccessError<$room>) -> Self {
                match err {
                    super::access::AccessError::Forbidden(room) => Self::Forbidden(room),
                    super::access::AccessError::UnknownChannel(channel) => {
                        Self::UnknownChannel(channel)
                    }
                    super::access::AccessError::Unavailable(cause) => {
                        Self::Unavailable(cause.into())
                    }
                }
            }
        }
    };
}

mod access;
pub mod admit_request;
pub mod admit_room_write;
pub mod announce_voice_leave;
pub mod authenticate;
pub mod authorize_listen;
pub mod change_location;
mod channel_binding;
pub mod connect_session;
pub mod count_unread;
pub mod delete_message;
pub mod deliver_event;
pub mod disconnect_session;
pub mod edit_message;
pub mod enter_voice;
pub mod expire_orphaned_sessions;
pub mod file_links;
pub mod get_message;
pub mod list_rooms;
mod lobby;
pub mod mark_read;
pub mod pace_publish;
pub mod post_file;
pub mod post_message;
mod publish_stored;
pub mod query_presence;
pub mod read_history;
mod repeated_send;
pub mod replay_room;
pub mod reply_to_message;
pub mod send_typing;
pub mod set_channel;
pub mod set_members;
#[cfg(test)]
mod test_support;

pub use admit_request::{AdmitRequest, RateLimited};
pub use admit_room_write::AdmitRoomWrite;
pub use announce_voice_leave::{AnnounceVoiceLeave, VoiceLeaveCommandError};
pub use authenticate::Authenticate;
pub use authorize_listen::{AuthorizeListen, ListenError};
pub use change_location::{ChangeLocation, ChangeLocationError};
pub use channel_binding::ChannelBinding;
pub use connect_session::{ConnectCommand, ConnectError, ConnectSession, Connected};
pub use count_unread::{CountUnread, RoomUnread, UnreadError};
pub use delete_message::{DeleteCommand, DeleteMessage, DeleteMessageError};
pub use deliver_event::{DEFAULT_ORDER_LIMITS, DeliverEvent};
pub use disconnect_session::{DisconnectError, DisconnectSession};
pub use edit_message::{EditCommand, EditMessage, EditMessageError};
pub use enter_voice::{EnterVoice, EnterVoiceError};
pub use expire_orphaned_sessions::{ExpireError, ExpireOrphanedSessions};
pub use file_links::FileLinks;
pub use get_message::{GetMessage, GetMessageError};
pub use list_rooms::{ListRooms, ListRoomsError};
pub use mark_read::{MarkRead, MarkReadError};
pub use pace_publish::{Overloaded, PacePublish};
pub use post_file::{FileCommand, FileLimits, IncomingFile, PostFile, PostFileError};
pub use post_message::{PostCommand, PostError, PostMessage};
pub use query_presence::{PresenceQueryError, QueryPresence, UserPresence};
pub use read_history::{HistoryCommand, HistoryError, HistoryPosition, ReadHistory};
pub use replay_room::{Replay, ReplayCommand, ReplayError, ReplayRoom};
pub use reply_to_message::{ReplyCommand, ReplyToMessage, ReplyToMessageError};
pub use send_typing::{SendTyping, TypingCommand, TypingError};
pub use set_channel::{SetChannel, SetChannelError};
pub use set_members::{SetMembers, SetMembersError};

//! The chat domain: who talks where, what a message is, and the rules every
//! message, reply, edit, delete, typing notice and presence change obeys.
//!
//! Pure and synchronous on purpose: no I/O, no async runtime, no serialisation.
//! Wire and storage shapes belong to the adapters that own them.

mod attachment;
mod catch_up;
mod client_msg_id;
mod content;
mod event;
mod ids;
mod location;
mod message;
mod presence;
mod room;
mod room_order;
mod sequence;
mod timestamp;
mod typing;
mod user;

pub use attachment::{Attachment, AttachmentError, FileType, FileUrl};
pub use catch_up::{catch_up, catch_up_all};
pub use client_msg_id::{ClientMsgId, ClientMsgIdError};
pub use content::{MessageBody, MessageBodyError};
pub use event::ChatEvent;
pub use ids::{ChannelId, CommunityId, IdError, MessageId, RoomId, SessionId, UserId};
pub use location::{
    Location, LocationChange, LocationError, VoiceLeave, VoiceLeaveError, VoiceOccupancy,
};
pub use message::{
    DeleteError, EditError, Message, MessageParts, MessageState, NewMessage, ParentContent,
    ParentSnapshot, ReplyError,
};
pub use presence::{PresenceChange, PresenceStatus, Session};
pub use room::{Audience, RoomKey, RoomRef};
pub use room_order::{Gap, OrderLimits, Released, RoomOrder, SkippedRun};
pub use sequence::Seq;
pub use timestamp::Timestamp;
pub use typing::Typing;
pub use user::UserProfile;

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

/// `impl From<AccessError> for UseCaseError`: not a member becomes `Forbidden`,
/// a directory failure `Unavailable`.
macro_rules! forbidden_from_access {
    ($target:ty) => {
        impl From<super::access::AccessError> for $target {
            fn from(err: super::access::AccessError) -> Self {
                match err {
                    super::access::AccessError::Forbidden(room) => Self::Forbidden(room),
                    super::access::AccessError::Unavailable(cause) => {
                        Self::Unavailable(cause.into())
                    }
                }
            }
        }
    };
}

mod access;
pub mod authorize_listen;
pub mod connect_session;
pub mod delete_message;
pub mod deliver_event;
pub mod disconnect_session;
pub mod edit_message;
mod lobby;
pub mod post_message;
pub mod reply_to_message;
pub mod send_typing;
#[cfg(test)]
mod test_support;

pub use authorize_listen::{AuthorizeListen, ListenError};
pub use connect_session::{ConnectCommand, ConnectError, ConnectSession, Connected};
pub use delete_message::{DeleteCommand, DeleteMessage, DeleteMessageError};
pub use deliver_event::DeliverEvent;
pub use disconnect_session::{DisconnectError, DisconnectSession};
pub use edit_message::{EditCommand, EditMessage, EditMessageError};
pub use post_message::{PostCommand, PostError, PostMessage};
pub use reply_to_message::{ReplyCommand, ReplyToMessage, ReplyToMessageError};
pub use send_typing::{SendTyping, TypingCommand, TypingError};

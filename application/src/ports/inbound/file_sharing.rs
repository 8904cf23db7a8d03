//! [`FileSharing`]: files users share in a room.

use domain::{Message, RoomRef, UserId};

pub use crate::ports::outbound::ByteStream;
use crate::usecases::{FileCommand, PostFileError};

/// Sharing a file as a message, and asking first whether the upload would be accepted.
///
/// Implemented in `crate::service`; mocked as `MockFileSharing`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait FileSharing: Send + Sync + 'static {
    /// Whether `author` may share a file in `room`, asked before the upload is read.
    /// See [`PostFileError`].
    async fn authorize_file(&self, author: UserId, room: RoomRef) -> Result<(), PostFileError>;
    /// Share a file. See [`PostFileError`].
    async fn post_file(&self, cmd: FileCommand) -> Result<Message, PostFileError>;
}

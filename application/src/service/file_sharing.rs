//! The [`FileSharing`] port over its use case.

use domain::{Message, RoomRef, UserId};

use super::Adapters;
use crate::ports::inbound::FileSharing;
use crate::usecases::{FileCommand, PostFile, PostFileError};

/// The use case behind [`FileSharing`].
pub(super) struct FileSharingUseCases {
    post_file: PostFile,
}

impl FileSharingUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            post_file: PostFile::new(
                a.directory.clone(),
                a.channel_binding,
                a.users.clone(),
                a.files.clone(),
                a.store.clone(),
                a.bus.clone(),
                a.clock.clone(),
                a.ids.clone(),
                a.file_limits.clone(),
            ),
        }
    }
}

#[async_trait::async_trait]
impl FileSharing for FileSharingUseCases {
    async fn authorize_file(&self, author: UserId, room: RoomRef) -> Result<(), PostFileError> {
        self.post_file.authorize(author, room).await
    }
    async fn post_file(&self, cmd: FileCommand) -> Result<Message, PostFileError> {
        self.post_file.execute(cmd).await
    }
}

//! Use case: a member shares a file (image, video, document) in a DM room or a channel.
//!
//! The file (and an image's or video's thumbnail) is stored first, then the message
//! that points at it, then the event is published. A message never points at a file
//! that was not stored: when the message cannot be stored, the files are deleted again.
//! Files get random keys and are stored with their room, so only its members can
//! download them; the event and the answer carry download links (see `file_links`).

use std::sync::Arc;

use domain::{
    Attachment, AttachmentError, FileType, Message, MessageBody, NewMessage, RoomKey, RoomRef,
    UserId,
};

use super::ChannelBinding;
use super::access::ensure_may_post_or_bind;
use super::file_links::FileLinks;
use super::publish_stored::publish_stored;
use crate::ports::outbound::{
    BusError, ByteStream, Clock, CommunityDirectory, EventBus, FileStore, FileStoreError,
    FileUpload, IdGenerator, MessageStore, StoreError, StoredFile, UserDirectory,
    UserDirectoryError,
};

/// The configured limits of uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLimits {
    /// Longest file (and thumbnail) accepted, in bytes.
    pub max_bytes: u64,
    /// Media types accepted: exact (`application/pdf`) or a family (`image/*`).
    pub allowed_types: Vec<String>,
}

impl FileLimits {
    /// The normalised media type if `declared` (as the client sent it, `None`
    /// when absent) is allowed.
    fn check(&self, declared: Option<&str>) -> Result<String, PostFileError> {
        let declared = declared.unwrap_or("application/octet-stream");
        let essence = declared
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let well_formed = essence.split_once('/').is_some_and(|(kind, sub)| {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
            };
            ok(kind) && ok(sub)
        });
        let allowed = well_formed
            && self.allowed_types.iter().any(|pattern| {
                let pattern = pattern.trim().to_ascii_lowercase();
                match pattern.strip_suffix("/*") {
                    Some(family) => essence
                        .strip_prefix(family)
                        .is_some_and(|rest| rest.starts_with('/')),
                    None => pattern == essence,
                }
            });
        if allowed {
            Ok(essence)
        } else {
            Err(PostFileError::UnsupportedType(declared.to_owned()))
        }
    }
}

/// One uploaded file as the client sent it.
pub struct IncomingFile {
    /// The client's file name; only a sanitised extension of it is kept.
    pub file_name: Option<String>,
    /// The media type the client declared.
    pub content_type: Option<String>,
    /// The content.
    pub body: ByteStream,
}

impl std::fmt::Debug for IncomingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingFile")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Input of [`PostFile`].
#[derive(Debug)]
pub struct FileCommand {
    /// The authenticated user, never a client-supplied id.
    pub author: UserId,
    /// Where to share it.
    pub room: RoomRef,
    /// The seed's `fileType` (`image`, `video`, …).
    pub file_type: String,
    /// The file.
    pub file: IncomingFile,
    /// Its preview; kept for images and videos only, as the seed did.
    pub thumbnail: Option<IncomingFile>,
}

/// Every way [`PostFile::execute`] can fail. Nothing is left stored after any of them
/// (except [`PostFileError::Unpublished`]'s message, which is in history).
#[derive(Debug, thiserror::Error)]
pub enum PostFileError {
    /// The `fileType` is not a valid file type.
    #[error(transparent)]
    InvalidFileType(#[from] AttachmentError),
    /// The media type is not among the allowed ones.
    #[error("files of type `{0}` are not accepted")]
    UnsupportedType(String),
    /// The file or thumbnail is longer than allowed.
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// The upload could not be read from the client.
    #[error("the upload could not be read")]
    BadUpload(#[source] std::io::Error),
    /// The author is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// A dependency failed; no message was created.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(PostFileError);

unavailable_from!(PostFileError: StoreError, BusError, UserDirectoryError);

impl From<FileStoreError> for PostFileError {
    fn from(err: FileStoreError) -> Self {
        match err {
            FileStoreError::TooLarge { max_bytes } => Self::TooLarge { max_bytes },
            FileStoreError::Upload(cause) => Self::BadUpload(cause),
            FileStoreError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

/// Stores a file and its thumbnail, then the message pointing at them, then publishes it.
pub struct PostFile {
    directory: Arc<dyn CommunityDirectory>,
    binding: ChannelBinding,
    users: Arc<dyn UserDirectory>,
    files: Arc<dyn FileStore>,
    store: Arc<dyn MessageStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    limits: FileLimits,
    links: FileLinks,
}

impl PostFile {
    /// Wires the use case to its ports.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        binding: ChannelBinding,
        users: Arc<dyn UserDirectory>,
        files: Arc<dyn FileStore>,
        store: Arc<dyn MessageStore>,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        limits: FileLimits,
    ) -> Self {
        Self {
            directory,
            binding,
            users,
            links: FileLinks::new(files.clone()),
            files,
            store,
            bus,
            clock,
            ids,
            limits,
        }
    }

    /// Succeeds when `author` may share a file in `room`: checked before the upload
    /// is read, so nothing of a non-member's upload is ever kept, even for a while.
    ///
    /// # Errors
    /// [`PostFileError::Forbidden`] for a non-member, [`PostFileError::Unavailable`]
    /// when the directory could not answer.
    pub async fn authorize(&self, author: UserId, room: RoomRef) -> Result<(), PostFileError> {
        // The same check as the post itself (binding included), so a first file in a channel
        // is not refused before its post could bind the channel.
        ensure_may_post_or_bind(&*self.directory, self.binding, author, room).await?;
        Ok(())
    }

    /// Runs the use case.
    #[tracing::instrument(name = "post_file", skip_all, fields(room = %cmd.room, author = %cmd.author))]
    pub async fn execute(&self, cmd: FileCommand) -> Result<Message, PostFileError> {
        let file_type = FileType::parse(&cmd.file_type)?;
        let content_type = self.limits.check(cmd.file.content_type.as_deref())?;
        // The seed keeps a thumbnail for images and videos only; it must be an image.
        let thumbnail = match cmd.thumbnail {
            Some(thumb) if file_type.has_thumbnail() => {
                let thumb_type = self.limits.check(thumb.content_type.as_deref())?;
                if !thumb_type.starts_with("image/") {
                    return Err(PostFileError::UnsupportedType(thumb_type));
                }
                Some((thumb, thumb_type))
            }
            _ => None,
        };
        ensure_may_post_or_bind(&*self.directory, self.binding, cmd.author, cmd.room).await?;
        let author = self.users.profile(cmd.author).await?;

        let id = self.ids.message_id();
        let key = self.ids.file_key();
        let room = cmd.room.key();
        let file = self
            .put(&key, room, "", cmd.file, content_type)
            .await
            .inspect_err(|err| tracing::warn!(error = %err, "file not stored"))?;
        let thumbnail = match thumbnail {
            Some((thumb, thumb_type)) => {
                match self.put(&key, room, "-thumb", thumb, thumb_type).await {
                    Ok(stored) => Some(stored),
                    Err(err) => {
                        tracing::warn!(error = %err, "thumbnail not stored");
                        self.clean_up(&[&file]).await;
                        return Err(err);
                    }
                }
            }
            None => None,
        };

        let new = NewMessage {
            id,
            room: cmd.room,
            author,
            body: MessageBody::parse(file.url.as_str())
                .map_err(|err| PostFileError::Unavailable(err.into()))?,
            parent: None,
            attachment: Some(Attachment {
                file_type,
                thumbnail: thumbnail.as_ref().map(|t| t.url.clone()),
            }),
            client_msg_id: None,
            sent_at: self.clock.now(),
        };
        // Without a client key, every append is new.
        let message = match self.store.append(new).await {
            Ok(appended) => appended.into_message(),
            Err(err) => {
                let stored: Vec<&StoredFile> =
                    std::iter::once(&file).chain(thumbnail.as_ref()).collect();
                self.clean_up(&stored).await;
                return Err(err.into());
            }
        };
        // Everyone who hears the event is a member of the room: they get links.
        let message = self.links.execute(message).await;
        publish_stored(&*self.bus, &domain::ChatEvent::Posted(message.clone())).await?;
        Ok(message)
    }

    async fn put(
        &self,
        key: &str,
        room: RoomKey,
        suffix: &str,
        file: IncomingFile,
        content_type: String,
    ) -> Result<StoredFile, PostFileError> {
        let extension = file
            .file_name
            .as_deref()
            .and_then(sanitized_extension)
            .map(|ext| format!(".{ext}"))
            .unwrap_or_default();
        Ok(self
            .files
            .put(FileUpload {
                key: format!("{key}{suffix}{extension}").to_ascii_lowercase(),
                room,
                content_type,
                max_bytes: self.limits.max_bytes,
                body: file.body,
            })
            .await?)
    }

    /// Best effort: a file that cannot be deleted now is only logged (an orphan
    /// file is harmless; a message pointing at nothing is not).
    async fn clean_up(&self, files: &[&StoredFile]) {
        for file in files {
            if let Err(err) = self.files.delete(&file.key).await {
                tracing::warn!(key = %file.key, error = %err, "orphaned file not deleted");
            }
        }
    }
}

/// The extension of a client's file name, if it is 1 to 8 ASCII letters or digits.
fn sanitized_extension(file_name: &str) -> Option<String> {
    let (_, ext) = file_name.rsplit_once('.')?;
    let ok = !ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use domain::{ChatEvent, FileUrl, Seq};
    use mockall::Sequence;

    use super::*;
    use crate::ports::outbound::Appended;
    use crate::usecases::test_support::{ALICE, DM, Mocks, MocksBuilder, store_down};

    fn limits() -> FileLimits {
        FileLimits {
            max_bytes: 1024,
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
        }
    }

    fn incoming(name: &str, content_type: &str) -> IncomingFile {
        IncomingFile {
            file_name: Some(name.into()),
            content_type: Some(content_type.into()),
            body: Box::pin(futures::stream::iter([Ok(b"bytes".to_vec())])),
        }
    }

    fn command(file_type: &str, thumbnail: bool) -> FileCommand {
        FileCommand {
            author: ALICE,
            room: DM,
            file_type: file_type.into(),
            file: incoming("../../etc/Photo.PNG", "image/png"),
            thumbnail: thumbnail.then(|| incoming("thumb.jpg", "image/jpeg")),
        }
    }

    fn stored(upload: &FileUpload) -> StoredFile {
        StoredFile {
            key: upload.key.clone(),
            url: FileUrl::parse(&format!("/files/{}", upload.key)).expect("url"),
            size: 5,
        }
    }

    fn use_case(m: Mocks) -> PostFile {
        PostFile::new(
            m.directory,
            ChannelBinding::Authoritative,
            m.users,
            m.files,
            m.store,
            m.bus,
            m.clock,
            m.ids,
            limits(),
        )
    }

    fn files_down() -> FileStoreError {
        FileStoreError::Unavailable(anyhow::anyhow!("connection refused"))
    }

    #[tokio::test]
    async fn the_file_and_thumbnail_are_stored_then_the_message_then_the_event() {
        // Arrange
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new().member_everywhere();
        m.files
            .expect_put()
            .withf(|u| {
                u.key == "0123456789abcdef0123456789abcdef.png"
                    && u.content_type == "image/png"
                    && u.room == DM.key()
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(|u| Ok(stored(&u)));
        m.files
            .expect_put()
            .withf(|u| u.key == "0123456789abcdef0123456789abcdef-thumb.jpg")
            .times(1)
            .in_sequence(&mut order)
            .returning(|u| Ok(stored(&u)));
        m.store
            .expect_append()
            .withf(|new| {
                new.body.as_str() == "/files/0123456789abcdef0123456789abcdef.png"
                    && new.author.id == ALICE
                    && new.attachment.as_ref().is_some_and(|a| {
                        a.file_type.as_str() == "image"
                            && a.thumbnail.as_ref().map(FileUrl::as_str)
                                == Some("/files/0123456789abcdef0123456789abcdef-thumb.jpg")
                    })
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(3)))));
        m.files
            .expect_download_url()
            .times(2)
            .in_sequence(&mut order)
            .returning(|url| Ok(FileUrl::parse(&format!("{url}?sig=1")).expect("url")));
        m.bus
            .expect_publish()
            .withf(|e| {
                matches!(e, ChatEvent::Posted(msg)
                    if msg.body().map(MessageBody::as_str)
                        == Some("/files/0123456789abcdef0123456789abcdef.png?sig=1"))
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Ok(()));

        // Act
        let message = use_case(m.build()).execute(command("Image", true)).await;

        // Assert
        let message = message.expect("posted");
        assert_eq!(message.seq(), Seq::new(3));
        assert_eq!(
            message
                .attachment()
                .and_then(|a| a.thumbnail.as_ref())
                .map(FileUrl::as_str),
            Some("/files/0123456789abcdef0123456789abcdef-thumb.jpg?sig=1"),
            "the uploader is handed links too"
        );
    }

    #[tokio::test]
    async fn a_non_member_is_refused_before_the_upload_is_read() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.files.expect_put().never();

        let err = use_case(m.build()).authorize(ALICE, DM).await;

        assert!(matches!(err, Err(PostFileError::Forbidden(room)) if room == DM));
    }

    #[tokio::test]
    async fn a_document_keeps_no_thumbnail() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().times(1).returning(|u| Ok(stored(&u)));
        m.store
            .expect_append()
            .withf(|new| {
                new.attachment
                    .as_ref()
                    .is_some_and(|a| a.thumbnail.is_none())
            })
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(1)))));
        m.files
            .expect_download_url()
            .returning(|url| Ok(url.clone()));
        m.bus.expect_publish().returning(|_| Ok(()));

        let mut cmd = command("pdf", true);
        cmd.file = incoming("report.pdf", "application/pdf");
        let message = use_case(m.build()).execute(cmd).await;

        assert!(message.is_ok(), "{message:?}");
    }

    #[tokio::test]
    async fn a_disallowed_media_type_is_refused_before_anything_is_stored() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().never();
        m.store.expect_append().never();

        let mut cmd = command("file", false);
        cmd.file = incoming("run.sh", "text/x-shellscript");
        let err = use_case(m.build()).execute(cmd).await;

        assert!(
            matches!(err, Err(PostFileError::UnsupportedType(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_invalid_file_type_is_refused() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().never();

        let err = use_case(m.build()).execute(command("<b>", false)).await;

        assert!(
            matches!(err, Err(PostFileError::InvalidFileType(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_non_member_cannot_share_a_file_and_nothing_is_stored() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.files.expect_put().never();
        m.store.expect_append().never();

        let err = use_case(m.build()).execute(command("image", true)).await;

        assert!(matches!(err, Err(PostFileError::Forbidden(room)) if room == DM));
    }

    #[tokio::test]
    async fn when_file_storage_is_down_no_message_is_created() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().returning(|_| Err(files_down()));
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("image", true)).await;

        assert!(matches!(err, Err(PostFileError::Unavailable(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_refused_and_no_message_is_created() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().returning(|u| {
            Err(FileStoreError::TooLarge {
                max_bytes: u.max_bytes,
            })
        });
        m.store.expect_append().never();

        let err = use_case(m.build()).execute(command("image", false)).await;

        assert!(
            matches!(err, Err(PostFileError::TooLarge { max_bytes: 1024 })),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn when_the_thumbnail_fails_the_stored_file_is_deleted() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files
            .expect_put()
            .withf(|u| !u.key.contains("thumb"))
            .returning(|u| Ok(stored(&u)));
        m.files
            .expect_put()
            .withf(|u| u.key.contains("thumb"))
            .returning(|_| Err(files_down()));
        m.files
            .expect_delete()
            .withf(|key| key == "0123456789abcdef0123456789abcdef.png")
            .times(1)
            .returning(|_| Ok(()));
        m.store.expect_append().never();

        let err = use_case(m.build()).execute(command("image", true)).await;

        assert!(matches!(err, Err(PostFileError::Unavailable(_))), "{err:?}");
    }

    #[tokio::test]
    async fn when_the_message_store_is_down_the_stored_files_are_deleted() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().times(2).returning(|u| Ok(stored(&u)));
        m.files.expect_delete().times(2).returning(|_| Ok(()));
        m.store.expect_append().returning(|_| Err(store_down()));
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("image", true)).await;

        assert!(matches!(err, Err(PostFileError::Unavailable(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_failed_cleanup_still_reports_the_store_failure() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.files.expect_put().returning(|u| Ok(stored(&u)));
        m.files.expect_delete().returning(|_| Err(files_down()));
        m.store.expect_append().returning(|_| Err(store_down()));

        let err = use_case(m.build()).execute(command("pdf", false)).await;

        assert!(matches!(err, Err(PostFileError::Unavailable(_))), "{err:?}");
    }

    #[test]
    fn only_a_short_alphanumeric_extension_of_the_client_name_is_kept() {
        assert_eq!(
            sanitized_extension("a.PNG"),
            Some("PNG".to_ascii_lowercase())
        );
        assert_eq!(sanitized_extension("../../x.tar.gz"), Some("gz".into()));
        assert_eq!(sanitized_extension("x./etc/passwd"), None);
        assert_eq!(sanitized_extension("noext"), None);
        assert_eq!(sanitized_extension("x.verylongext"), None);
    }

    #[test]
    fn media_types_match_exactly_or_by_family_and_ignore_parameters() {
        let limits = limits();
        assert_eq!(
            limits.check(Some("Image/PNG; q=1")).expect("allowed"),
            "image/png"
        );
        assert!(limits.check(Some("application/pdf")).is_ok());
        assert!(limits.check(Some("imagex/png")).is_err());
        assert!(limits.check(Some("application/pdfx")).is_err());
        assert!(limits.check(None).is_err());
        assert!(limits.check(Some("image/")).is_err());
    }
}

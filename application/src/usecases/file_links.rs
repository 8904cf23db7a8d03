//! Use case: hand file messages to readers with download links they can use.
//!
//! A file message keeps the stable URL the file store gave (`/files/<key>`, or the
//! object's URL in the bucket). Downloading from it needs the reader's token, which
//! an `<img src>` cannot send, so every file message leaving the server (the live
//! event, the upload's answer, history, one message) carries links that expire
//! instead, minted by the store for readers the caller has already checked are
//! members of the room.

use std::sync::Arc;

use domain::Message;

use crate::ports::outbound::FileStore;

/// Replaces the stored URLs of file messages with download links.
pub struct FileLinks {
    files: Arc<dyn FileStore>,
}

impl FileLinks {
    /// Wires the use case to the file store.
    pub fn new(files: Arc<dyn FileStore>) -> Self {
        Self { files }
    }

    /// `message` with links for its file and thumbnail (unchanged if it shares no
    /// file). When no link can be made the stored URL stays: a member can still
    /// download it with a token, and the message is never lost over a link.
    pub async fn execute(&self, message: Message) -> Message {
        let Some((file, thumbnail)) = message.file_urls() else {
            return message;
        };
        let file = match self.files.download_url(&file).await {
            Ok(link) => link,
            Err(err) => {
                tracing::warn!(error = %err, id = %message.id(), "no download link for the file");
                return message;
            }
        };
        let thumbnail = match thumbnail {
            Some(thumb) => match self.files.download_url(&thumb).await {
                Ok(link) => Some(link),
                Err(err) => {
                    tracing::warn!(error = %err, id = %message.id(), "no download link for the thumbnail");
                    Some(thumb)
                }
            },
            None => None,
        };
        message.with_file_urls(&file, thumbnail)
    }

    /// [`Self::execute`] for each message, in order.
    pub async fn all(&self, messages: Vec<Message>) -> Vec<Message> {
        let mut linked = Vec::with_capacity(messages.len());
        for message in messages {
            linked.push(self.execute(message).await);
        }
        linked
    }
}

#[cfg(test)]
mod tests {
    use domain::{Attachment, FileType, FileUrl};

    use super::*;
    use crate::ports::outbound::FileStoreError;
    use crate::usecases::test_support::{ALICE, DM, MocksBuilder, stored};

    fn file_message() -> Message {
        let mut parts = stored("m1", ALICE, DM, "/files/k.png").parts().clone();
        parts.attachment = Some(Attachment {
            file_type: FileType::parse("image").expect("type"),
            thumbnail: Some(FileUrl::parse("/files/k-thumb.png").expect("url")),
        });
        Message::from_parts(parts)
    }

    fn signed(url: &FileUrl) -> FileUrl {
        FileUrl::parse(&format!("{url}?sig=x")).expect("url")
    }

    #[tokio::test]
    async fn a_file_message_gets_links_for_its_file_and_thumbnail() {
        let mut m = MocksBuilder::new();
        m.files
            .expect_download_url()
            .times(2)
            .returning(|url| Ok(signed(url)));
        let m = m.build();

        let message = FileLinks::new(m.files).execute(file_message()).await;

        assert_eq!(
            message.body().map(|b| b.as_str().to_owned()).as_deref(),
            Some("/files/k.png?sig=x")
        );
        assert_eq!(
            message
                .attachment()
                .and_then(|a| a.thumbnail.as_ref())
                .map(FileUrl::as_str),
            Some("/files/k-thumb.png?sig=x")
        );
    }

    #[tokio::test]
    async fn a_text_message_is_left_alone() {
        let mut m = MocksBuilder::new();
        m.files.expect_download_url().never();
        let m = m.build();

        let message = FileLinks::new(m.files)
            .execute(stored("m1", ALICE, DM, "/files/k.png"))
            .await;

        assert_eq!(
            message.body().map(|b| b.as_str().to_owned()).as_deref(),
            Some("/files/k.png")
        );
    }

    #[tokio::test]
    async fn when_no_link_can_be_made_the_stored_url_stays() {
        let mut m = MocksBuilder::new();
        m.files.expect_download_url().returning(|_| {
            Err(FileStoreError::Unavailable(anyhow::anyhow!(
                "no credentials"
            )))
        });
        let m = m.build();

        let message = FileLinks::new(m.files).execute(file_message()).await;

        assert_eq!(message, file_message());
    }
}

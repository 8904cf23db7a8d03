//! [`LocalDiskFileStore`]: files in one directory of this machine, served back by the
//! server under `/files/{key}` (see [`LocalDiskFileStore::open`]) to members of the
//! file's room (with a token) or to holders of a download link (see `link`).
//!
//! Each file is written to a hidden temporary name and renamed into place once whole,
//! so a download never sees half a file and an oversize or broken upload leaves
//! nothing behind. Its media type and room are kept next to it in `<key>.type` (one
//! per line), written first: a file without them is never visible.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use application::ports::outbound::{FileStore, FileStoreError, FileUpload, StoredFile};
use domain::{ChannelId, FileUrl, RoomId, RoomKey};
use futures::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::key::{is_valid_key, key_under};
use crate::limit::SizeLimit;
use crate::link::LinkSigner;

/// A stored file as `GET /files/{key}` sends it.
#[derive(Debug)]
pub struct ServedFile {
    /// The content, opened for reading.
    pub file: tokio::fs::File,
    /// Its length in bytes.
    pub len: u64,
    /// The media type it was uploaded with.
    pub content_type: String,
    /// The room it was shared in; `None` for files stored before rooms were recorded
    /// (those are served through download links only).
    pub room: Option<RoomKey>,
}

/// Files in a directory of this machine.
#[derive(Debug, Clone)]
pub struct LocalDiskFileStore {
    directory: PathBuf,
    base_url: String,
    timeout: Duration,
    links: LinkSigner,
}

impl LocalDiskFileStore {
    /// Opens (creating it when missing) the store's directory. URLs are
    /// `<base_url>/<key>`; an empty base means `/files` on this server. Download
    /// links are signed by `links`.
    pub async fn open(
        directory: &Path,
        base_url: &str,
        timeout: Duration,
        links: LinkSigner,
    ) -> anyhow::Result<Self> {
        tokio::fs::create_dir_all(directory)
            .await
            .with_context(|| {
                format!("cannot create the files directory {}", directory.display())
            })?;
        let base_url = if base_url.trim().is_empty() {
            "/files".to_owned()
        } else {
            base_url.trim().trim_end_matches('/').to_owned()
        };
        Ok(Self {
            directory: directory.to_owned(),
            base_url,
            timeout,
            links,
        })
    }

    /// What signs and checks this store's download links.
    pub fn links(&self) -> &LinkSigner {
        &self.links
    }

    /// The directory the files are in.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The stored file `key`, or `None` when there is none (or `key` is not a valid key).
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub async fn serve(&self, key: &str) -> std::io::Result<Option<ServedFile>> {
        if !is_valid_key(key) {
            return Ok(None);
        }
        let (content_type, room) = match tokio::fs::read_to_string(self.type_path(key)).await {
            Ok(text) => {
                let mut lines = text.lines();
                let content_type = lines.next().unwrap_or_default().trim().to_owned();
                (content_type, lines.next().and_then(parse_room))
            }
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let file = match tokio::fs::File::open(self.directory.join(key)).await {
            Ok(file) => file,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let len = file.metadata().await?.len();
        Ok(Some(ServedFile {
            file,
            len,
            content_type,
            room,
        }))
    }

    fn type_path(&self, key: &str) -> PathBuf {
        self.directory.join(format!("{key}.type"))
    }

    async fn write(&self, upload: FileUpload, partial: &Path) -> Result<u64, FileStoreError> {
        let mut file = tokio::fs::File::create(partial)
            .await
            .map_err(|err| unavailable(err, "cannot create the file"))?;
        let mut limit = SizeLimit::new(upload.max_bytes);
        let mut body = upload.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(FileStoreError::Upload)?;
            limit.count(&chunk)?;
            file.write_all(&chunk)
                .await
                .map_err(|err| unavailable(err, "cannot write the file"))?;
        }
        file.sync_all()
            .await
            .map_err(|err| unavailable(err, "cannot flush the file"))?;
        let metadata = format!("{}\n{}\n", upload.content_type, upload.room);
        tokio::fs::write(self.type_path(&upload.key), metadata.as_bytes())
            .await
            .map_err(|err| unavailable(err, "cannot write the media type"))?;
        tokio::fs::rename(partial, self.directory.join(&upload.key))
            .await
            .map_err(|err| unavailable(err, "cannot move the file into place"))?;
        Ok(limit.total())
    }
}

/// A room as `RoomKey` displays it (`direct/5`, `channel/7`).
fn parse_room(text: &str) -> Option<RoomKey> {
    match text.trim().split_once('/')? {
        ("direct", id) => RoomId::parse(id).ok().map(RoomKey::Direct),
        ("channel", id) => ChannelId::parse(id).ok().map(RoomKey::Channel),
        _ => None,
    }
}

fn unavailable(err: std::io::Error, what: &'static str) -> FileStoreError {
    FileStoreError::Unavailable(anyhow::Error::new(err).context(what))
}

fn timed_out(what: &'static str) -> FileStoreError {
    FileStoreError::Unavailable(anyhow::anyhow!("{what} timed out"))
}

#[async_trait::async_trait]
impl FileStore for LocalDiskFileStore {
    #[tracing::instrument(name = "files.local.put", skip_all, fields(key = %upload.key))]
    async fn put(&self, upload: FileUpload) -> Result<StoredFile, FileStoreError> {
        if !is_valid_key(&upload.key) {
            return Err(FileStoreError::Unavailable(anyhow::anyhow!(
                "invalid file key `{}`",
                upload.key
            )));
        }
        let key = upload.key.clone();
        let url = FileUrl::parse(&format!("{}/{key}", self.base_url))
            .map_err(|err| FileStoreError::Unavailable(err.into()))?;
        let partial = self
            .directory
            .join(format!(".partial-{}-{key}", uuid::Uuid::new_v4().simple()));
        let written = tokio::time::timeout(self.timeout, self.write(upload, &partial))
            .await
            .unwrap_or_else(|_| Err(timed_out("storing the file")));
        match written {
            Ok(size) => Ok(StoredFile { key, url, size }),
            Err(err) => {
                // Nothing of a refused or broken upload stays behind.
                let _ = tokio::fs::remove_file(&partial).await;
                let _ = tokio::fs::remove_file(self.type_path(&key)).await;
                Err(err)
            }
        }
    }

    async fn download_url(&self, stored: &FileUrl) -> Result<FileUrl, FileStoreError> {
        let Some(key) = key_under(stored.as_str(), &self.base_url) else {
            return Ok(stored.clone());
        };
        FileUrl::parse(&format!(
            "{}/{key}?{}",
            self.base_url,
            self.links.query(key)
        ))
        .map_err(|err| FileStoreError::Unavailable(err.into()))
    }

    #[tracing::instrument(name = "files.local.delete", skip_all, fields(key))]
    async fn delete(&self, key: &str) -> Result<(), FileStoreError> {
        if !is_valid_key(key) {
            return Ok(());
        }
        for path in [self.directory.join(key), self.type_path(key)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                Err(err) => return Err(unavailable(err, "cannot delete the file")),
            }
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), FileStoreError> {
        let metadata = tokio::fs::metadata(&self.directory)
            .await
            .map_err(|err| unavailable(err, "the files directory is missing"))?;
        if metadata.is_dir() {
            Ok(())
        } else {
            Err(FileStoreError::Unavailable(anyhow::anyhow!(
                "{} is not a directory",
                self.directory.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_read_back_as_they_were_written() {
        for room in [
            RoomKey::Direct(RoomId::new(5)),
            RoomKey::Channel(ChannelId::new(7)),
        ] {
            assert_eq!(parse_room(&room.to_string()), Some(room));
        }
        assert_eq!(parse_room("group/7"), None);
        assert_eq!(parse_room(""), None);
    }
}

//! The file store chosen by configuration: a local directory (the default; this server
//! serves the files at `/files/{key}`) or an S3-compatible bucket (`[files] backend = "s3"`).

use std::time::Duration;

use adapter_files::{FileBackend, FilesSettings, LinkSigner, LocalDiskFileStore, S3FileStore};
use anyhow::Context as _;
use application::ports::outbound::{FileStore, FileStoreError, FileUpload, StoredFile};
use application::usecases::FileLimits;
use domain::FileUrl;
use secrecy::ExposeSecret as _;

/// One of the two file-store adapters; delegates every call to it.
pub enum Files {
    /// A directory of this machine.
    Local(LocalDiskFileStore),
    /// An S3-compatible bucket.
    S3(Box<S3FileStore>),
}

impl Files {
    /// Opens the store `[files]` names.
    pub async fn open(settings: &FilesSettings) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        Ok(match settings.backend {
            FileBackend::Local => Self::Local(
                LocalDiskFileStore::open(
                    &settings.directory(),
                    &settings.public_base_url,
                    timeout,
                    link_signer(settings)?,
                )
                .await
                .context("cannot use the files directory ([files])")?,
            ),
            FileBackend::S3 => Self::S3(Box::new(
                S3FileStore::new(settings).context("cannot use S3 ([files.s3])")?,
            )),
        })
    }

    /// The local store, whose files this server serves.
    pub fn local(&self) -> Option<&LocalDiskFileStore> {
        match self {
            Self::Local(store) => Some(store),
            Self::S3(_) => None,
        }
    }

    /// `None` when local; else whether the bucket answers.
    pub async fn readiness(&self) -> Option<anyhow::Result<()>> {
        match self {
            Self::Local(_) => None,
            Self::S3(store) => Some(store.ping().await.map_err(anyhow::Error::new)),
        }
    }
}

/// What signs local download links: `files.link_secret`, or a random secret of
/// this process when it is not set.
fn link_signer(settings: &FilesSettings) -> anyhow::Result<LinkSigner> {
    let ttl = Duration::from_secs(settings.link_ttl_seconds.max(1));
    let secret = settings.link_secret.expose_secret();
    if secret.is_empty() {
        return Ok(LinkSigner::random(ttl));
    }
    LinkSigner::new(secret.as_bytes(), ttl).context("invalid files.link_secret")
}

/// The use case's limits from `[files]`.
pub fn limits(settings: &FilesSettings) -> FileLimits {
    FileLimits {
        max_bytes: settings.max_bytes,
        allowed_types: settings.allowed_types.clone(),
    }
}

impl FileStore for Files {
    async fn put(&self, upload: FileUpload) -> Result<StoredFile, FileStoreError> {
        match self {
            Self::Local(store) => store.put(upload).await,
            Self::S3(store) => store.put(upload).await,
        }
    }

    async fn download_url(&self, stored: &FileUrl) -> Result<FileUrl, FileStoreError> {
        match self {
            Self::Local(store) => store.download_url(stored).await,
            Self::S3(store) => store.download_url(stored).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), FileStoreError> {
        match self {
            Self::Local(store) => store.delete(key).await,
            Self::S3(store) => store.delete(key).await,
        }
    }

    async fn ping(&self) -> Result<(), FileStoreError> {
        match self {
            Self::Local(store) => store.ping().await,
            Self::S3(store) => store.ping().await,
        }
    }
}

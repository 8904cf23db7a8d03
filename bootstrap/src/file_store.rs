//! The file store chosen by configuration: a local directory (the default; this server
//! serves the files at `/files/{key}`) or an S3-compatible bucket (`[files] backend = "s3"`).

use std::sync::Arc;
use std::time::Duration;

use adapter_files::{FileBackend, FilesSettings, LocalDiskFileStore, S3FileStore};
use anyhow::Context as _;
use application::ports::outbound::{FileStore, FileStoreError, FileUpload, StoredFile};
use application::usecases::FileLimits;
use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Body, IntoResponse as _, Response, handler};

/// Where the local store's files are served.
pub const FILES_PATH: &str = "/files/:key";

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
                LocalDiskFileStore::open(&settings.directory(), &settings.public_base_url, timeout)
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

/// `GET /files/{key}`: a stored file with its media type. `nosniff` keeps browsers from
/// running an upload as another type; anything but images, videos and audio is sent
/// as an attachment, so a browser downloads it instead of rendering it on this origin.
pub fn serve(store: LocalDiskFileStore) -> impl poem::Endpoint {
    let store = Arc::new(store);
    poem::EndpointExt::data(serve_file, store)
}

#[handler]
async fn serve_file(
    Path(key): Path<String>,
    store: poem::web::Data<&Arc<LocalDiskFileStore>>,
) -> Response {
    match store.serve(&key).await {
        Ok(Some(file)) => {
            let inline = ["image/", "video/", "audio/"]
                .iter()
                .any(|family| file.content_type.starts_with(family));
            let disposition = if inline {
                "inline".to_owned()
            } else {
                format!("attachment; filename=\"{key}\"")
            };
            Response::builder()
                .header(header::CONTENT_TYPE, file.content_type)
                .header(header::CONTENT_LENGTH, file.len)
                .header("X-Content-Type-Options", "nosniff")
                .header(header::CONTENT_DISPOSITION, disposition)
                .header(
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable",
                )
                .body(Body::from_async_read(file.file))
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::warn!(%key, %error, "stored file not readable");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

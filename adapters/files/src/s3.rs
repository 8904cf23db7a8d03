//! [`S3FileStore`]: files in an S3-compatible bucket, through the `object_store` crate.
//!
//! Uploads stream: a file that fits in one part (5 MiB) is sent with a single PUT once
//! it ended; a longer one becomes a multipart upload fed part by part, so at most a
//! part or two is ever in memory, and it is aborted (nothing kept) when the client's
//! stream fails or passes the size limit. The bucket is not created here: it belongs
//! to the deployment (and to the tests).
//!
//! Anything but raster images, audio and video is stored with `Content-Disposition:
//! attachment`. Objects are private unless `files.s3.public` says the bucket is published: readers
//! are then handed pre-signed GET URLs that expire (`files.link_ttl_seconds`), minted
//! only for members of the file's room.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use application::ports::outbound::{FileStore, FileStoreError, FileUpload, StoredFile};
use domain::FileUrl;
use futures::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::Signer as _;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use secrecy::ExposeSecret as _;

use crate::disposition::is_inline;
use crate::key::{is_valid_key, key_under};
use crate::limit::SizeLimit;
use crate::settings::{FilesSettings, S3Settings};

/// The size of one part of a multipart upload (S3's minimum).
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Files in an S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3FileStore {
    store: Arc<AmazonS3>,
    base_url: String,
    timeout: Duration,
    /// How long a pre-signed URL stays valid; `None` when the bucket is public.
    link_ttl: Option<Duration>,
}

impl S3FileStore {
    /// A client of the bucket in `settings.s3`; connects lazily (readiness pings it).
    pub fn new(settings: &FilesSettings) -> anyhow::Result<Self> {
        let s3 = &settings.s3;
        anyhow::ensure!(!s3.bucket.trim().is_empty(), "files.s3.bucket is not set");
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let mut client = ClientOptions::new()
            .with_allow_http(true)
            .with_connect_timeout(timeout.min(Duration::from_secs(5)))
            .with_timeout(timeout);
        if !s3.public && s3.acl.trim().starts_with("public") {
            tracing::warn!(
                acl = %s3.acl.trim(),
                "files.s3.acl publishes every file while files.s3.public is false; \
                 leave the ACL empty to keep files private"
            );
        }
        if !s3.acl.trim().is_empty() {
            // Sent (and signed) with every request; S3 reads it on PUT and on the
            // creation of a multipart upload.
            let acl = HeaderValue::from_str(s3.acl.trim()).context("invalid files.s3.acl")?;
            client = client.with_default_headers(HeaderMap::from_iter([(
                HeaderName::from_static("x-amz-acl"),
                acl,
            )]));
        }
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_virtual_hosted_style_request(!s3.path_style)
            .with_client_options(client)
            // One quick retry at most: an outage must fail the upload within the timeout.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 1,
                retry_timeout: timeout,
            });
        if !s3.endpoint.trim().is_empty() {
            builder = builder.with_endpoint(s3.endpoint.trim());
        }
        let access_key_id = s3.access_key_id.expose_secret();
        if !access_key_id.is_empty() {
            builder = builder
                .with_access_key_id(access_key_id)
                .with_secret_access_key(s3.secret_access_key.expose_secret());
        }
        let store = builder.build().context("invalid [files.s3] settings")?;
        Ok(Self {
            store: Arc::new(store),
            base_url: base_url(&settings.public_base_url, s3),
            timeout,
            link_ttl: (!s3.public)
                .then(|| Duration::from_secs(settings.link_ttl_seconds.clamp(1, 7 * 24 * 3600))),
        })
    }

    async fn upload(&self, upload: FileUpload) -> Result<u64, FileStoreError> {
        let path = Path::from(upload.key.as_str());
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::ContentType,
            AttributeValue::from(upload.content_type.clone()),
        );
        if !is_inline(&upload.content_type) {
            // Downloaded, never rendered, wherever the bucket's URLs are opened.
            attributes.insert(
                Attribute::ContentDisposition,
                AttributeValue::from("attachment"),
            );
        }
        let mut limit = SizeLimit::new(upload.max_bytes);
        let mut body = upload.body;
        let mut first = Vec::new();
        // Collect the first part; most chat files end before it is full.
        let mut ended = false;
        while first.len() < PART_BYTES {
            let Some(chunk) = body.next().await else {
                ended = true;
                break;
            };
            let chunk = chunk.map_err(FileStoreError::Upload)?;
            limit.count(&chunk)?;
            first.extend_from_slice(&chunk);
        }
        if ended {
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            self.store
                .put_opts(&path, PutPayload::from(first), options)
                .await
                .map_err(unavailable)?;
            return Ok(limit.total());
        }
        let options = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let multipart = self
            .store
            .put_multipart_opts(&path, options)
            .await
            .map_err(unavailable)?;
        let mut writer = WriteMultipart::new_with_chunk_size(multipart, PART_BYTES);
        writer.write(&first);
        drop(first);
        let fed: Result<(), FileStoreError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(FileStoreError::Upload)?;
                limit.count(&chunk)?;
                // At most two parts in flight: the upload reads no faster than S3 takes it.
                writer.wait_for_capacity(2).await.map_err(unavailable)?;
                writer.write(&chunk);
            }
            Ok(())
        }
        .await;
        match fed {
            Ok(()) => {
                writer.finish().await.map_err(unavailable)?;
                Ok(limit.total())
            }
            Err(err) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "multipart upload not aborted");
                }
                Err(err)
            }
        }
    }
}

/// Where downloads go: the configured public base, or the bucket at the endpoint.
fn base_url(public_base_url: &str, s3: &S3Settings) -> String {
    let public = public_base_url.trim().trim_end_matches('/');
    if !public.is_empty() {
        return public.to_owned();
    }
    let endpoint = s3.endpoint.trim().trim_end_matches('/');
    let bucket = s3.bucket.trim();
    if endpoint.is_empty() {
        return format!("https://{bucket}.s3.{}.amazonaws.com", s3.region);
    }
    if s3.path_style {
        return format!("{endpoint}/{bucket}");
    }
    match endpoint.split_once("://") {
        Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
        None => format!("{bucket}.{endpoint}"),
    }
}

fn unavailable(err: object_store::Error) -> FileStoreError {
    FileStoreError::Unavailable(anyhow::Error::new(err).context("object storage failed"))
}

fn timed_out(what: &'static str) -> FileStoreError {
    FileStoreError::Unavailable(anyhow::anyhow!("{what} timed out"))
}

#[async_trait::async_trait]
impl FileStore for S3FileStore {
    #[tracing::instrument(name = "files.s3.put", skip_all, fields(key = %upload.key))]
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
        let size = tokio::time::timeout(self.timeout, self.upload(upload))
            .await
            .unwrap_or_else(|_| Err(timed_out("storing the file")))?;
        Ok(StoredFile { key, url, size })
    }

    async fn download_url(&self, stored: &FileUrl) -> Result<FileUrl, FileStoreError> {
        let Some(ttl) = self.link_ttl else {
            return Ok(stored.clone());
        };
        let Some(key) = key_under(stored.as_str(), &self.base_url) else {
            return Ok(stored.clone());
        };
        let signed = self
            .store
            .signed_url(http::Method::GET, &Path::from(key), ttl)
            .await
            .map_err(unavailable)?;
        FileUrl::parse(signed.as_str()).map_err(|err| FileStoreError::Unavailable(err.into()))
    }

    #[tracing::instrument(name = "files.s3.delete", skip_all, fields(key))]
    async fn delete(&self, key: &str) -> Result<(), FileStoreError> {
        let deleted = tokio::time::timeout(self.timeout, self.store.delete(&Path::from(key)))
            .await
            .map_err(|_| timed_out("deleting the file"))?;
        match deleted {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn ping(&self) -> Result<(), FileStoreError> {
        // Any answer about an object proves the bucket is reachable and the
        // credentials work; a missing object is such an answer.
        let probe = Path::from(".readiness-probe");
        let answer = tokio::time::timeout(self.timeout, self.store.head(&probe))
            .await
            .map_err(|_| timed_out("the readiness probe"))?;
        match answer {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(unavailable(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(endpoint: &str, path_style: bool) -> S3Settings {
        S3Settings {
            endpoint: endpoint.into(),
            bucket: "chat".into(),
            path_style,
            ..S3Settings::default()
        }
    }

    #[test]
    fn download_urls_follow_the_public_base_then_the_endpoint_style() {
        assert_eq!(
            base_url("https://cdn.x/f/", &s3("", true)),
            "https://cdn.x/f"
        );
        assert_eq!(
            base_url("", &s3("http://127.0.0.1:9000/", true)),
            "http://127.0.0.1:9000/chat"
        );
        assert_eq!(
            base_url("", &s3("https://s3.example.com", false)),
            "https://chat.s3.example.com"
        );
        assert_eq!(
            base_url("", &s3("", false)),
            "https://chat.s3.us-east-1.amazonaws.com"
        );
    }
}

//! The `[files]` settings table (bootstrap owns where it comes from).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// Which store keeps the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileBackend {
    /// A directory on this machine; the server serves the files (embedded default).
    Local,
    /// S3-compatible object storage (`[files.s3]`).
    S3,
}

/// Where uploads go and what they may be.
#[derive(Debug, Clone, Deserialize)]
pub struct FilesSettings {
    /// `local` (default) or `s3`.
    #[serde(default = "default_backend")]
    pub backend: FileBackend,
    /// The local store's directory; empty: `chat-server-files` in the system temp directory.
    #[serde(default)]
    pub directory: String,
    /// Longest file (and thumbnail) accepted, in bytes.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Media types accepted: exact (`application/pdf`) or a family (`image/*`).
    #[serde(default = "default_allowed_types")]
    pub allowed_types: Vec<String>,
    /// Put in front of `/<key>` to make download URLs. Empty: `/files` on this server
    /// (local), or the bucket's URL at the endpoint (S3).
    #[serde(default)]
    pub public_base_url: String,
    /// Limit on storing one file (or deleting one, or a readiness probe).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long a download link handed to a member stays valid (local files: a signed
    /// `/files/{key}?exp=…&sig=…`; private S3 objects: a pre-signed URL).
    #[serde(default = "default_link_ttl_seconds")]
    pub link_ttl_seconds: u64,
    /// The secret local download links are signed with, at least 32 bytes; instances
    /// sharing a files directory must share it. Empty: a random secret per process
    /// (links work on the instance that made them, until it restarts). Its `Debug` is
    /// redacted.
    #[serde(default)]
    pub link_secret: SecretString,
    /// The S3 store's connection.
    #[serde(default)]
    pub s3: S3Settings,
}

impl FilesSettings {
    /// The local store's directory, the default filled in.
    pub fn directory(&self) -> PathBuf {
        if self.directory.trim().is_empty() {
            std::env::temp_dir().join("chat-server-files")
        } else {
            PathBuf::from(&self.directory)
        }
    }
}

impl Default for FilesSettings {
    fn default() -> Self {
        Self {
            backend: default_backend(),
            directory: String::new(),
            max_bytes: default_max_bytes(),
            allowed_types: default_allowed_types(),
            public_base_url: String::new(),
            timeout_ms: default_timeout_ms(),
            link_ttl_seconds: default_link_ttl_seconds(),
            link_secret: SecretString::default(),
            s3: S3Settings::default(),
        }
    }
}

/// An S3-compatible bucket. The bucket must exist: the server never creates it.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    /// `http(s)://host:port` of an S3-compatible server; empty: AWS for the region.
    #[serde(default)]
    pub endpoint: String,
    /// The bucket.
    #[serde(default)]
    pub bucket: String,
    /// The region (any value for most S3-compatible servers).
    #[serde(default = "default_region")]
    pub region: String,
    /// Access key id; empty: from the environment or instance metadata, as AWS SDKs do.
    /// Its `Debug` is redacted, like the secret's.
    #[serde(default)]
    pub access_key_id: SecretString,
    /// Secret access key (its `Debug` is redacted).
    #[serde(default)]
    pub secret_access_key: SecretString,
    /// `host/bucket/key` URLs instead of `bucket.host/key` (most self-hosted servers).
    #[serde(default = "default_path_style")]
    pub path_style: bool,
    /// Canned ACL of stored objects; empty (default): none, the objects stay private.
    /// `public-read` (as the seed stored them) publishes every file to anyone with its
    /// URL: only together with `public = true`.
    #[serde(default)]
    pub acl: String,
    /// Whether anyone may download the bucket's objects at their URL (a public bucket
    /// or CDN): download URLs are then the plain object URLs. `false` (default):
    /// objects are private and readers get pre-signed URLs that expire.
    #[serde(default)]
    pub public: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            bucket: String::new(),
            region: default_region(),
            access_key_id: SecretString::default(),
            secret_access_key: SecretString::default(),
            path_style: default_path_style(),
            acl: String::new(),
            public: false,
        }
    }
}

fn default_backend() -> FileBackend {
    FileBackend::Local
}

fn default_max_bytes() -> u64 {
    10 * 1024 * 1024
}

fn default_allowed_types() -> Vec<String> {
    [
        "image/*",
        "video/*",
        "audio/*",
        "application/pdf",
        "text/plain",
    ]
    .map(String::from)
    .to_vec()
}

fn default_timeout_ms() -> u64 {
    30_000
}

fn default_link_ttl_seconds() -> u64 {
    300
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

fn default_path_style() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_link_secret_or_the_s3_keys() {
        let settings = FilesSettings {
            link_secret: "the-link-secret-nobody-may-read".into(),
            s3: S3Settings {
                bucket: "chat-files".into(),
                access_key_id: "the-key-id-nobody-may-read".into(),
                secret_access_key: "the-access-key-nobody-may-read".into(),
                ..S3Settings::default()
            },
            ..FilesSettings::default()
        };

        let printed = format!("{settings:?}");

        assert!(!printed.contains("nobody-may-read"), "{printed}");
        assert!(printed.contains("chat-files"), "{printed}");
    }
}

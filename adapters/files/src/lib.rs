//! Shared files behind the `FileStore` port: [`LocalDiskFileStore`] (the embedded
//! default; the server serves the files back under `/files/{key}`) and [`S3FileStore`]
//! (any S3-compatible object storage, through the `object_store` crate).
//!
//! # Layout
//!
//! * `settings`: the `[files]` table and its `[files.s3]` part.
//! * `disposition`: which media types a browser may show inline.
//! * `key`: the checks on the server-generated keys both stores rely on.
//! * `limit`: counting an upload's bytes against its limit while it streams.
//! * `link`: [`LinkSigner`], the local store's download links that expire.
//! * `local_disk`: [`LocalDiskFileStore`] and [`ServedFile`] (what `GET /files/{key}` sends).
//! * `s3`: [`S3FileStore`], with the `s3` feature (it pulls `object_store`'s AWS client).
//! * `serve`: the poem endpoint that sends the local store's files back (`GET /files/{key}`)
//!   to holders of a link or members of the file's room.

mod disposition;
mod key;
mod limit;
mod link;
mod local_disk;
#[cfg(feature = "s3")]
mod s3;
mod serve;
mod settings;

pub use key::is_valid_key;
pub use link::{LinkError, LinkSigner, MIN_SECRET_BYTES};
pub use local_disk::{LocalDiskFileStore, ServedFile};
#[cfg(feature = "s3")]
pub use s3::S3FileStore;
pub use serve::{FILES_PATH, endpoint as files_endpoint};
pub use settings::{FileBackend, FilesSettings, S3Settings};

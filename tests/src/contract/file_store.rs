//! Contract of the `FileStore` port: a stored file is downloadable whole at the URL the
//! store returns, an upload over its limit or with a broken stream leaves nothing, and
//! deleting is idempotent. Each behaviour takes a fresh store and a way to download
//! what it stored (`fetch`: the bytes at a stored file's URL, `None` when absent).

use std::future::Future;
use std::pin::Pin;

use application::ports::outbound::{FileStore, FileStoreError, FileUpload, StoredFile};

/// Downloads a stored file: `None` when it is not there.
pub type Fetch = Box<dyn Fn(StoredFile) -> Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send>>>;

fn key(suffix: &str) -> String {
    format!("{}{suffix}", uuid::Uuid::new_v4().simple())
}

fn upload(key: &str, chunks: Vec<std::io::Result<Vec<u8>>>, max_bytes: u64) -> FileUpload {
    FileUpload {
        key: key.to_owned(),
        room: domain::RoomKey::Direct(domain::RoomId::new(5)),
        content_type: "image/png".into(),
        max_bytes,
        body: Box::pin(futures::stream::iter(chunks)),
    }
}

/// A file sent in several chunks is stored whole, with its size, under its key.
pub async fn a_stored_file_is_downloadable_whole(store: impl FileStore, fetch: Fetch) {
    let key = key(".png");
    let chunks = vec![
        Ok(b"\x89PNG".to_vec()),
        Ok(vec![7; 100_000]),
        Ok(b"end".to_vec()),
    ];

    let stored = store
        .put(upload(&key, chunks, 1_000_000))
        .await
        .expect("stored");

    assert_eq!(stored.key, key);
    assert_eq!(stored.size, 100_007);
    assert!(stored.url.as_str().ends_with(&key), "{}", stored.url);
    let bytes = fetch(stored).await.expect("downloadable");
    assert_eq!(bytes.len(), 100_007);
    assert!(bytes.starts_with(b"\x89PNG") && bytes.ends_with(b"end"));
}

/// A file longer than six megabytes (more than one S3 part) is stored whole.
pub async fn a_file_of_several_parts_is_stored_whole(store: impl FileStore, fetch: Fetch) {
    let key = key(".bin");
    let chunks = (0..13).map(|i| Ok(vec![i; 512 * 1024])).collect();

    let stored = store
        .put(upload(&key, chunks, 10 * 1024 * 1024))
        .await
        .expect("stored");

    assert_eq!(stored.size, 13 * 512 * 1024);
    let bytes = fetch(stored).await.expect("downloadable");
    assert_eq!(bytes.len(), 13 * 512 * 1024);
    assert_eq!(bytes[12 * 512 * 1024], 12);
}

/// One byte over the limit refuses the upload, and nothing of it is kept.
pub async fn an_upload_over_its_limit_is_refused_and_not_kept(store: impl FileStore, fetch: Fetch) {
    let key = key(".png");
    let chunks = vec![Ok(vec![1; 60]), Ok(vec![2; 41])];

    let err = store
        .put(upload(&key, chunks, 100))
        .await
        .expect_err("refused");

    assert!(
        matches!(err, FileStoreError::TooLarge { max_bytes: 100 }),
        "{err:?}"
    );
    let stored = store
        .put(upload(&self::key(".png"), vec![Ok(vec![1; 100])], 100))
        .await
        .expect("at the limit");
    assert_eq!(stored.size, 100);
    let missing = StoredFile {
        key: key.clone(),
        url: url_beside(&stored, &key),
        size: 0,
    };
    assert_eq!(fetch(missing).await, None);
}

/// A client stream that breaks off fails the upload, and nothing of it is kept.
pub async fn a_broken_upload_is_refused_and_not_kept(store: impl FileStore, fetch: Fetch) {
    let key = key(".png");
    let chunks = vec![
        Ok(vec![1; 10]),
        Err(std::io::Error::other("connection reset")),
    ];

    let err = store
        .put(upload(&key, chunks, 100))
        .await
        .expect_err("refused");

    assert!(matches!(err, FileStoreError::Upload(_)), "{err:?}");
    let other = store
        .put(upload(&self::key(".png"), vec![Ok(vec![1])], 100))
        .await
        .expect("stored");
    let missing = StoredFile {
        key: key.clone(),
        url: url_beside(&other, &key),
        size: 0,
    };
    assert_eq!(fetch(missing).await, None);
}

/// A deleted file is gone; deleting it again, or a key never stored, is not an error.
pub async fn deleting_is_idempotent(store: impl FileStore, fetch: Fetch) {
    let key = key(".pdf");
    let stored = store
        .put(upload(&key, vec![Ok(b"%PDF".to_vec())], 100))
        .await
        .expect("stored");

    store.delete(&key).await.expect("deleted");
    store.delete(&key).await.expect("deleted again");
    store
        .delete(&self::key(".png"))
        .await
        .expect("never stored");

    assert_eq!(fetch(stored).await, None);
}

/// A reachable store answers its readiness probe.
pub async fn a_reachable_store_is_ready(store: impl FileStore, _fetch: Fetch) {
    store.ping().await.expect("ready");
}

/// The URL `key` would have, next to `stored`'s.
fn url_beside(stored: &StoredFile, key: &str) -> domain::FileUrl {
    let base = stored.url.as_str().trim_end_matches(&stored.key);
    domain::FileUrl::parse(&format!("{base}{key}")).expect("url")
}

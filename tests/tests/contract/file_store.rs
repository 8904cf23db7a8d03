//! The `FileStore` contract against the local disk (a fresh directory per test) and
//! against S3 (the shared moto server, a fresh bucket per test).

use std::path::PathBuf;
use std::time::Duration;

use adapter_files::{
    FileBackend, FilesSettings, LinkSigner, LocalDiskFileStore, S3FileStore, S3Settings,
};
use application::ports::outbound::StoredFile;
use chat_tests::contract::file_store::Fetch;
use chat_tests::services;

fn fresh_directory() -> PathBuf {
    std::env::temp_dir().join(services::unique_name("chat-files-contract"))
}

async fn local() -> (LocalDiskFileStore, Fetch) {
    let directory = fresh_directory();
    let links = LinkSigner::random(Duration::from_secs(60));
    let store = LocalDiskFileStore::open(&directory, "", Duration::from_secs(10), links)
        .await
        .expect("directory created");
    let fetch: Fetch = Box::new(move |stored: StoredFile| {
        let path = directory.join(&stored.key);
        Box::pin(async move { tokio::fs::read(path).await.ok() })
    });
    (store, fetch)
}

fn s3_settings(endpoint: String, bucket: String) -> FilesSettings {
    FilesSettings {
        backend: FileBackend::S3,
        timeout_ms: 10_000,
        s3: S3Settings {
            endpoint,
            bucket,
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            acl: "public-read".into(),
            ..S3Settings::default()
        },
        ..FilesSettings::default()
    }
}

async fn s3() -> (S3FileStore, Fetch) {
    let bucket = services::fresh_bucket().await;
    let store = S3FileStore::new(&s3_settings(services::s3_endpoint(), bucket)).expect("client");
    let fetch: Fetch = Box::new(|stored: StoredFile| {
        Box::pin(async move {
            let response = reqwest::get(stored.url.as_str()).await.expect("S3 answers");
            if response.status().is_success() {
                Some(response.bytes().await.expect("body").to_vec())
            } else {
                None
            }
        })
    });
    (store, fetch)
}

macro_rules! contract {
    ($($behaviour:ident),* $(,)?) => {
        mod local_disk {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let (store, fetch) = super::local().await;
                    chat_tests::contract::file_store::$behaviour(store, fetch).await;
                }
            )*
        }

        mod s3 {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let (store, fetch) = super::s3().await;
                    chat_tests::contract::file_store::$behaviour(store, fetch).await;
                }
            )*
        }
    };
}

contract!(
    a_stored_file_is_downloadable_whole,
    a_file_of_several_parts_is_stored_whole,
    an_upload_over_its_limit_is_refused_and_not_kept,
    a_broken_upload_is_refused_and_not_kept,
    deleting_is_idempotent,
    a_reachable_store_is_ready,
);

mod s3_only {
    use std::time::Instant;

    use application::ports::outbound::{FileStore, FileStoreError, FileUpload};

    use super::*;

    #[tokio::test]
    async fn an_unreachable_s3_fails_uploads_and_readiness_quickly() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let endpoint = format!("http://{}", closed.local_addr().expect("addr"));
        drop(closed);
        let mut settings = s3_settings(endpoint, "absent".into());
        settings.timeout_ms = 3_000;
        let store = S3FileStore::new(&settings).expect("client");
        let started = Instant::now();

        let err = store
            .put(FileUpload {
                key: "x.png".into(),
                room: domain::RoomKey::Direct(domain::RoomId::new(5)),
                content_type: "image/png".into(),
                max_bytes: 10,
                body: Box::pin(futures::stream::iter([Ok(vec![1; 5])])),
            })
            .await
            .expect_err("refused");

        assert!(matches!(err, FileStoreError::Unavailable(_)), "{err:?}");
        assert!(store.ping().await.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    fn png(key: &str) -> FileUpload {
        FileUpload {
            key: key.into(),
            room: domain::RoomKey::Direct(domain::RoomId::new(5)),
            content_type: "image/png".into(),
            max_bytes: 100,
            body: Box::pin(futures::stream::iter([Ok(b"private bytes".to_vec())])),
        }
    }

    #[tokio::test]
    async fn objects_are_private_and_readers_get_a_pre_signed_url_that_works() {
        let bucket = services::fresh_bucket().await;
        let mut settings = s3_settings(services::s3_endpoint(), bucket);
        settings.s3.acl = String::new();
        let store = S3FileStore::new(&settings).expect("client");

        let stored = store.put(png("secret.png")).await.expect("stored");
        let anonymous = reqwest::get(stored.url.as_str()).await.expect("S3 answers");
        let link = store.download_url(&stored.url).await.expect("pre-signed");
        let signed = reqwest::get(link.as_str()).await.expect("S3 answers");

        assert_eq!(anonymous.status(), reqwest::StatusCode::FORBIDDEN);
        assert_ne!(link, stored.url);
        assert!(link.as_str().contains("X-Amz-Signature="), "{link}");
        assert!(link.as_str().contains("X-Amz-Expires=300"), "{link}");
        assert_eq!(signed.status(), reqwest::StatusCode::OK);
        assert_eq!(
            signed.bytes().await.expect("body").as_ref(),
            b"private bytes"
        );
    }

    #[tokio::test]
    async fn a_public_bucket_hands_out_the_plain_object_url() {
        let bucket = services::fresh_bucket().await;
        let mut settings = s3_settings(services::s3_endpoint(), bucket);
        settings.s3.public = true;
        let store = S3FileStore::new(&settings).expect("client");

        let stored = store.put(png("public.png")).await.expect("stored");
        let link = store.download_url(&stored.url).await.expect("link");

        assert_eq!(link, stored.url);
    }

    #[tokio::test]
    async fn an_svg_is_stored_to_be_downloaded_as_an_attachment_and_a_png_inline() {
        let bucket = services::fresh_bucket().await;
        let store =
            S3FileStore::new(&s3_settings(services::s3_endpoint(), bucket)).expect("client");
        let mut svg = png("x.svg");
        svg.content_type = "image/svg+xml".into();

        let svg = store.put(svg).await.expect("stored");
        let png = store.put(png("y.png")).await.expect("stored");
        let svg = reqwest::get(store.download_url(&svg.url).await.expect("link").as_str())
            .await
            .expect("S3 answers");
        let png = reqwest::get(store.download_url(&png.url).await.expect("link").as_str())
            .await
            .expect("S3 answers");

        assert_eq!(svg.headers()["content-disposition"], "attachment");
        assert!(png.headers().get("content-disposition").is_none());
    }
}

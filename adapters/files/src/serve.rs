//! `GET /files/{key}`: the local store's files, served back by this server under a stable URL.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Body, IntoResponse as _, Response, handler};

use crate::LocalDiskFileStore;

/// Where the local store's files are served (a poem route pattern).
pub const FILES_PATH: &str = "/files/:key";

/// The endpoint serving `store`'s files at [`FILES_PATH`], each with its media type.
/// `nosniff` keeps browsers from running an upload as another type; anything but images, videos and audio is sent
/// as an attachment, so a browser downloads it instead of rendering it on this origin.
pub fn endpoint(store: LocalDiskFileStore) -> impl poem::Endpoint {
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

//! Refuses request bodies above the configured size with 413, whether the client
//! announced the size (`Content-Length`) or streams the body without one.
//! (poem's `SizeLimit` refuses every request without `Content-Length`, GETs included.)
//! A body without `Content-Length` is read here, up to the limit, before the handler runs,
//! except for file uploads: those are read part by part by `upload`, which bounds each
//! part, while the whole body is counted here as it streams against the upload limit
//! (chunked uploads included); past it the stream fails and [`UploadOverLimit`] tells
//! `upload` to answer 413.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;
use poem::error::SizedLimitError;
use poem::web::headers::{ContentLength, HeaderMapExt as _};
use poem::{Body, Endpoint, Request, Result};

/// Calls `next` once the body of `request` is known to be at most `max` bytes.
pub(crate) async fn limit_body<E: Endpoint>(
    next: &E,
    mut request: Request,
    max: usize,
    max_upload: usize,
) -> Result<E::Output> {
    let path = request.uri().path();
    let upload = request.method() == poem::http::Method::POST
        && (path.ends_with("/file") || path.ends_with("/files"));
    if upload {
        if let Some(length) = request.headers().typed_get::<ContentLength>()
            && usize::try_from(length.0).unwrap_or(usize::MAX) > max_upload
        {
            return Err(SizedLimitError::PayloadTooLarge.into());
        }
        let over = UploadOverLimit::default();
        request.extensions_mut().insert(over.clone());
        let body = request.take_body().into_bytes_stream();
        let mut seen = 0_usize;
        let counted = body.map(move |chunk| {
            let chunk = chunk?;
            seen = seen.saturating_add(chunk.len());
            if seen > max_upload {
                over.0.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other(format!(
                    "the upload is larger than {max_upload} bytes"
                )));
            }
            Ok(chunk)
        });
        request.set_body(Body::from_bytes_stream(counted));
        return next.call(request).await;
    }
    match request.headers().typed_get::<ContentLength>() {
        Some(length) if usize::try_from(length.0).unwrap_or(usize::MAX) > max => {
            return Err(SizedLimitError::PayloadTooLarge.into());
        }
        None => {
            let body = request.take_body().into_bytes_limit(max).await?;
            request.set_body(Body::from_bytes(body));
        }
        Some(_) => {}
    }
    next.call(request).await
}

/// Set (in the request's extensions) once an upload's body passed the upload limit.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadOverLimit(Arc<AtomicBool>);

impl UploadOverLimit {
    /// Whether the body passed the limit.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

//! Refuses request bodies above the configured size with 413, whether the client
//! announced the size (`Content-Length`) or streams the body without one.
//! (poem's `SizeLimit` refuses every request without `Content-Length`, GETs included.)
//! A body without `Content-Length` is read here, up to the limit, before the handler runs,
//! except for file uploads: those are read part by part by `upload`, which bounds each part.

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

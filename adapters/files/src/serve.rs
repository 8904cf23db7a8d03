//! `GET /files/{key}`: the local store's files, served back by this server to those
//! allowed to read them.
//!
//! A request is served when it carries either a valid download link (`?exp=…&sig=…`,
//! see `link`; what `<img src>` uses) or the user's token (`Authorization: Bearer`)
//! of a member of the file's room, checked by the chat's own listen authorization
//! (the rule that guards subscriptions). Anything else is refused: 401 without a
//! credential, 403 for a link that is not valid or has expired, and the same 404 for
//! a file that does not exist and one the caller may not read.
//!
//! Only raster images, audio and video are shown inline; anything else (SVG, HTML,
//! PDF, text…) is sent as an attachment, and every file carries
//! `Content-Security-Policy: sandbox` and `nosniff`, so an upload never runs as a
//! page of this origin.

use std::sync::Arc;

use application::ports::inbound::{Access, RequestKind};
use application::usecases::ListenError;
use domain::UserId;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::web::{Path, Query};
use poem::{Body, Response, handler};
use serde::Deserialize;

use crate::LocalDiskFileStore;
use crate::disposition::is_inline;
use crate::key::is_valid_key;
use crate::link::LinkError;

/// Where the local store's files are served (a poem route pattern).
pub const FILES_PATH: &str = "/files/:key";

/// The endpoint serving `store`'s files at [`FILES_PATH`] to holders of a download
/// link or to members of the file's room (asked of `access`).
pub fn endpoint(store: LocalDiskFileStore, access: Arc<dyn Access>) -> impl poem::Endpoint {
    let files = Arc::new(Files { store, access });
    poem::EndpointExt::data(serve_file, files)
}

struct Files {
    store: LocalDiskFileStore,
    access: Arc<dyn Access>,
}

/// A download link's query.
#[derive(Debug, Default, Deserialize)]
struct LinkQuery {
    exp: Option<String>,
    sig: Option<String>,
}

#[handler]
async fn serve_file(
    Path(key): Path<String>,
    Query(link): Query<LinkQuery>,
    headers: &HeaderMap,
    files: poem::web::Data<&Arc<Files>>,
) -> Response {
    serve(&key, &link, headers, &files)
        .await
        .unwrap_or_else(|refused| refused)
}

async fn serve(
    key: &str,
    link: &LinkQuery,
    headers: &HeaderMap,
    files: &Files,
) -> Result<Response, Response> {
    if !is_valid_key(key) {
        return Err(not_found());
    }
    let user = caller(key, link, headers, files).await?;
    let file = match files.store.serve(key).await {
        Ok(Some(file)) => file,
        Ok(None) => return Err(not_found()),
        Err(error) => {
            tracing::warn!(%key, %error, "stored file not readable");
            return Err(unavailable());
        }
    };
    if let Some(user) = user {
        // Files stored before rooms were recorded are only served through links.
        let room = file.room.ok_or_else(not_found)?;
        match files.access.authorize_listen(user, room.audience()).await {
            Ok(()) => {}
            Err(ListenError::Unavailable(cause)) => {
                tracing::warn!(%key, error = ?cause, "file download: membership unknown");
                return Err(unavailable());
            }
            // Not a member, or any other refusal of the listen rule.
            Err(refused) => {
                tracing::info!(%key, %user, %room, reason = %refused, "file download refused");
                return Err(not_found());
            }
        }
    }
    let disposition = if is_inline(&file.content_type) {
        "inline".to_owned()
    } else {
        format!("attachment; filename=\"{key}\"")
    };
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, file.content_type)
        .header(header::CONTENT_LENGTH, file.len)
        .header("X-Content-Type-Options", "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, "sandbox")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(
            header::CACHE_CONTROL,
            format!("private, max-age={}", files.store.links().ttl().as_secs()),
        )
        .body(Body::from_async_read(file.file)))
}

/// Who asks: `None` for the holder of a valid link, else the user whose token the
/// request carries (within their read allowance); the refusal otherwise.
async fn caller(
    key: &str,
    link: &LinkQuery,
    headers: &HeaderMap,
    files: &Files,
) -> Result<Option<UserId>, Response> {
    match (&link.exp, &link.sig) {
        (None, None) => {}
        (Some(exp), Some(sig)) => {
            return match files.store.links().verify(key, exp, sig) {
                Ok(()) => Ok(None),
                Err(err) => {
                    tracing::info!(%key, error = %err, "file download refused");
                    Err(refusal(
                        StatusCode::FORBIDDEN,
                        link_code(err),
                        &err.to_string(),
                    ))
                }
            };
        }
        _ => {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                link_code(LinkError::Invalid),
                &LinkError::Invalid.to_string(),
            ));
        }
    }
    let Some(token) = bearer(headers) else {
        let mut response = refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a download needs the user's token (Authorization: Bearer) or a download link",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Err(response);
    };
    let user = files
        .access
        .authenticate(token)
        .map_err(|err| refusal(StatusCode::UNAUTHORIZED, "unauthorized", &err.to_string()))?
        .user;
    if let Err(limited) = files.access.admit(user, RequestKind::Read).await {
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            &limited.to_string(),
        );
        let seconds = limited.retry_after.as_secs().max(1);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
        return Err(response);
    }
    Ok(Some(user))
}

fn link_code(err: LinkError) -> &'static str {
    match err {
        LinkError::Invalid => "invalid_link",
        LinkError::Expired => "link_expired",
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// The REST API's error shape: `{"code": …, "message": …}`.
fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    metric_names::error_code(code.to_owned()).increment(1);
    let body = serde_json::json!({ "code": code, "message": message });
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

fn not_found() -> Response {
    refusal(StatusCode::NOT_FOUND, "file_not_found", "no such file")
}

fn unavailable() -> Response {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "a dependency of the chat server is unavailable; retry later",
    )
}

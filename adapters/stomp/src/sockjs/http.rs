//! The HTTP details SockJS prescribes for every transport: CORS (the page may come
//! from another origin), caching (never for session traffic, a year for preflights),
//! content types, and the plain-text errors.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Request, Response};
use time::OffsetDateTime;
use time::macros::format_description;

/// What every session and info response carries: POSTs must not be cached (iOS 6 did).
const NO_CACHE: &str = "no-store, no-cache, no-transform, must-revalidate, max-age=0";

/// A preflight answer may be cached for a year.
const ONE_YEAR_SECONDS: i64 = 31_536_000;

pub(crate) const JAVASCRIPT: &str = "application/javascript;charset=UTF-8";
pub(crate) const JSON: &str = "application/json;charset=UTF-8";
pub(crate) const PLAIN: &str = "text/plain;charset=UTF-8";
pub(crate) const EVENT_STREAM: &str = "text/event-stream";

/// CORS headers: the request's `Origin` echoed with credentials allowed (cookies may
/// pin a session to an instance), or `*` for a request without one.
pub(crate) fn cors(request: &Request, mut response: Response) -> Response {
    let headers = response.headers_mut();
    match request.headers().get(header::ORIGIN) {
        Some(origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        None => {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// A response of session traffic (pass it through [`cors`]): content type, no caching.
pub(crate) fn uncached(status: StatusCode, content_type: &str) -> poem::ResponseBuilder {
    Response::builder()
        .status(status)
        .content_type(content_type)
        .header(header::CACHE_CONTROL, NO_CACHE)
}

/// The answer to a CORS preflight (`OPTIONS`) of a SockJS URL.
pub(crate) fn preflight(request: &Request, methods: &'static str) -> Response {
    let expires = OffsetDateTime::now_utc() + time::Duration::seconds(ONE_YEAR_SECONDS);
    let expires = expires
        .format(format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default();
    let mut builder = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(
            header::CACHE_CONTROL,
            format!("public, max-age={ONE_YEAR_SECONDS}"),
        )
        .header(header::EXPIRES, expires)
        .header(header::ACCESS_CONTROL_MAX_AGE, ONE_YEAR_SECONDS.to_string())
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    if let Some(asked) = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .filter(|asked| !asked.is_empty())
    {
        builder = builder.header(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    cors(request, builder.finish())
}

/// `405` naming what is allowed.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response {
    Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, allow)
        .finish()
}

/// `404` for unknown sessions and malformed session URLs.
pub(crate) fn not_found() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .content_type(PLAIN)
        .body("Not Found")
}

/// Which of a URL's methods a request uses.
pub(crate) enum Verb {
    Options,
    Allowed,
    Other,
}

pub(crate) fn verb(request: &Request, allowed: &Method) -> Verb {
    match request.method() {
        method if method == Method::OPTIONS => Verb::Options,
        method if method == allowed => Verb::Allowed,
        _ => Verb::Other,
    }
}

//! The page's files, compiled into the binary, served with their content type,
//! an `ETag` and `Cache-Control: no-cache`: browsers keep a copy but ask again on
//! each load and get `304 Not Modified` until a new binary changes the file.

use std::sync::LazyLock;

use poem::http::{HeaderMap, StatusCode, header};
use poem::web::Path;
use poem::{IntoResponse as _, Request, Response, handler};

use crate::json_response;
use crate::security;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Self {
        Self {
            name,
            content_type,
            body,
            etag: format!("\"{:016x}\"", fnv1a(body)),
        }
    }
}

/// The page itself.
static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    )
});

/// Everything under `/web/`.
static FILES: LazyLock<[Asset; 7]> = LazyLock::new(|| {
    const JS: &str = "text/javascript; charset=utf-8";
    [
        Asset::new("app.js", JS, include_bytes!("../assets/app.js")),
        Asset::new("api.js", JS, include_bytes!("../assets/api.js")),
        Asset::new("outbox.js", JS, include_bytes!("../assets/outbox.js")),
        Asset::new("stomp.js", JS, include_bytes!("../assets/stomp.js")),
        Asset::new("view.js", JS, include_bytes!("../assets/view.js")),
        Asset::new(
            "style.css",
            "text/css; charset=utf-8",
            include_bytes!("../assets/style.css"),
        ),
        Asset::new(
            "icon.svg",
            "image/svg+xml",
            include_bytes!("../assets/icon.svg"),
        ),
    ]
});

/// FNV-1a, 64 bits: a stable fingerprint of a file for its `ETag` (not security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

/// `asset` as a response to a request with `headers`: 304 when the browser's copy is current.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset
            .body
            .with_content_type(asset.content_type)
            .into_response()
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    if let Ok(etag) = header::HeaderValue::from_str(&asset.etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    security::protect(&mut response, host(headers));
    response
}

/// The chat page, for a request with `headers`.
pub(crate) fn page_response(headers: &HeaderMap) -> Response {
    serve(&PAGE, headers)
}

/// `GET /`: the chat page (as an ordinary route, for tests).
#[cfg(test)]
#[handler]
pub(crate) fn page(request: &Request) -> Response {
    page_response(request.headers())
}

/// `GET /web/{file}`: a script, the style sheet or the icon.
#[handler]
pub(crate) fn file(request: &Request, Path(name): Path<String>) -> Response {
    match FILES.iter().find(|asset| asset.name == name) {
        Some(asset) => serve(asset, request.headers()),
        None => json_response::error(StatusCode::NOT_FOUND, "not_found", "no such file"),
    }
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::{Route, get};

    use super::*;

    fn app() -> Route {
        Route::new().at("/", get(page)).at("/web/:file", get(file))
    }

    #[tokio::test]
    async fn the_page_is_html_with_a_strict_policy() {
        let response = TestClient::new(app())
            .get("/")
            .header("Host", "localhost:8080")
            .send()
            .await;

        response.assert_status_is_ok();
        response.assert_content_type("text/html; charset=utf-8");
        response.assert_header("Cache-Control", "no-cache");
        let policy = response
            .0
            .headers()
            .get("Content-Security-Policy")
            .expect("a policy")
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(policy.contains("connect-src 'self' ws://localhost:8080"));
    }

    #[tokio::test]
    async fn a_script_is_served_as_javascript_and_revalidated_by_its_etag() {
        let client = TestClient::new(app());
        let first = client.get("/web/app.js").send().await;
        first.assert_status_is_ok();
        first.assert_content_type("text/javascript; charset=utf-8");
        let etag = first
            .0
            .headers()
            .get("ETag")
            .expect("an etag")
            .to_str()
            .expect("ascii")
            .to_owned();

        let again = client
            .get("/web/app.js")
            .header("If-None-Match", etag)
            .send()
            .await;

        again.assert_status(StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn an_unknown_file_is_not_found() {
        TestClient::new(app())
            .get("/web/secret.txt")
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}

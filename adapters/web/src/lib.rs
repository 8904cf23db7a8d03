//! Inbound HTTP for people with a browser: the web chat page at `/` (its HTML,
//! JavaScript and CSS are compiled into the binary, so running the server needs no
//! build step and no network) and, in development only, `POST /dev/token`, which
//! signs a token for any user so that the page can log in without an auth server.
//!
//! The page speaks the same public interfaces as any client: STOMP over
//! WebSocket at `/my-chat/websocket` and the REST API under `/api/v1`.

mod assets;
mod dev_token;
mod json_response;
mod root;
mod security;

use poem::{Endpoint, Route, get, post};

pub use dev_token::{DevTokens, IssueToken};
pub use root::PageOr;

/// Where the page is served.
pub const PAGE_PATH: &str = "/";

/// Where the page's scripts, style sheet and icon are served (`/web/{file}`).
pub const ASSETS_PATH: &str = "/web";

/// Where the page learns whether development tokens are on.
pub const CONFIG_PATH: &str = "/web/config.json";

/// The development token endpoint (404 unless development tokens are on).
pub const DEV_TOKEN_PATH: &str = "/dev/token";

/// Adds the page's assets, its configuration and the development token endpoint
/// to `route`. `dev_tokens` is `None` outside development: the endpoint then
/// answers 404 and the page asks the user to paste a token. The page itself is
/// served by [`page_or`] around whatever is nested at `/`.
pub fn mount(route: Route, dev_tokens: Option<DevTokens>) -> Route {
    let enabled = dev_tokens.is_some();
    route
        .at(CONFIG_PATH, get(dev_token::config(enabled)))
        .at(format!("{ASSETS_PATH}/:file"), get(assets::file))
        .at(DEV_TOKEN_PATH, post(dev_token::endpoint(dev_tokens)))
}

/// Serves the page at `/` and passes every other request to `inner` (the
/// endpoint nested at `/`).
pub fn page_or<E: Endpoint>(inner: E) -> PageOr<E> {
    PageOr::new(inner)
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::{EndpointExt as _, handler};

    use super::*;

    #[handler]
    fn rest() -> &'static str {
        "rest"
    }

    #[tokio::test]
    async fn the_page_is_served_next_to_a_catch_all_nested_at_the_root() {
        let route = mount(Route::new(), None).nest("/", page_or(Route::new().at("/api", rest)));
        let client = TestClient::new(route.boxed());

        let page = client.get("/").send().await;
        page.assert_status_is_ok();
        page.assert_content_type("text/html; charset=utf-8");
        client.get("/api").send().await.assert_text("rest").await;
    }
}

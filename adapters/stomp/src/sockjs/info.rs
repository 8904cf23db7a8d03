//! The two URLs outside sessions: the greeting (`/my-chat`) and `/my-chat/info`, which
//! clients call first to learn the server's capabilities and measure the round trip.

use poem::http::{Method, StatusCode};
use poem::{Request, Response};

use super::http::{JSON, PLAIN, Verb, cors, method_not_allowed, preflight, uncached, verb};

/// `GET /my-chat` and `/my-chat/`.
pub(crate) fn greeting(request: &Request) -> Response {
    if request.method() != Method::GET {
        return method_not_allowed("GET");
    }
    Response::builder()
        .content_type(PLAIN)
        .body("Welcome to SockJS!\n")
}

/// `GET /my-chat/info`: WebSocket available, any origin, no cookie needed (sessions are
/// found by id, and a STOMP session is bound to one instance by its transport), and
/// fresh entropy for the client's random session ids.
pub(crate) fn info(request: &Request) -> Response {
    match verb(request, &Method::GET) {
        Verb::Options => preflight(request, "OPTIONS, GET"),
        Verb::Other => method_not_allowed("OPTIONS, GET"),
        Verb::Allowed => {
            let body = serde_json::json!({
                "websocket": true,
                "origins": ["*:*"],
                "cookie_needed": false,
                "entropy": rand::random::<u32>(),
            });
            cors(
                request,
                uncached(StatusCode::OK, JSON).body(body.to_string()),
            )
        }
    }
}

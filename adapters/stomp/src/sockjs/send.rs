//! `xhr_send`: what clients of the HTTP transports send, a JSON array of strings
//! (STOMP frames, or parts of them) for an open session.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::{Request, Response};

use super::frame::decode;
use super::http::{PLAIN, Verb, cors, method_not_allowed, not_found, preflight, uncached, verb};
use super::session::DeliveryError;
use super::{SockJs, remote_ip, session_id};

/// Serves `POST /{server}/{session}/xhr_send`: `204` once the STOMP session has the
/// messages, `404` for an unknown or closed session (or one another address opened), `500` for a payload SockJS
/// calls broken (its wording), `413` for one over the size limit.
pub(crate) async fn xhr_send(sockjs: &Arc<SockJs>, mut request: Request) -> Response {
    match verb(&request, &Method::POST) {
        Verb::Options => return preflight(&request, "OPTIONS, POST"),
        Verb::Other => return method_not_allowed("OPTIONS, POST"),
        Verb::Allowed => {}
    }
    let from = remote_ip(&request);
    let Some(session) = session_id(&request).and_then(|id| sockjs.registry.get(id, from)) else {
        return cors(&request, not_found());
    };
    if session.is_closed() {
        return cors(&request, not_found());
    }
    let body = match request
        .take_body()
        .into_bytes_limit(sockjs.max_payload_bytes())
        .await
    {
        Ok(body) => body,
        Err(error) => {
            tracing::info!(%error, "SockJS payload refused");
            return cors(
                &request,
                uncached(StatusCode::PAYLOAD_TOO_LARGE, PLAIN).body("Payload too large."),
            );
        }
    };
    let messages = match decode(&body) {
        Ok(messages) => messages,
        Err(error) => {
            tracing::info!(%error, "SockJS payload refused");
            return cors(
                &request,
                uncached(StatusCode::INTERNAL_SERVER_ERROR, PLAIN).body(error.to_string()),
            );
        }
    };
    match session.deliver(messages).await {
        Ok(()) => cors(&request, uncached(StatusCode::NO_CONTENT, PLAIN).finish()),
        Err(DeliveryError::Closed) => cors(&request, not_found()),
        Err(DeliveryError::Busy) => {
            tracing::info!("SockJS session did not take its messages in time");
            cors(
                &request,
                uncached(StatusCode::SERVICE_UNAVAILABLE, PLAIN).body("Session busy; retry."),
            )
        }
    }
}

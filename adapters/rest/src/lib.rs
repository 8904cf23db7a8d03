//! Inbound REST on poem-openapi: the clean API under `/api/v1`, the seed's
//! endpoints under `/chat-server`, the OpenAPI document and Swagger UI.
//!
//! Handlers only translate: HTTP in, a call to one of the driving ports in [`ChatPorts`],
//! HTTP out. Every use-case error is mapped to one JSON error shape in `error`.

mod auth;
mod body_limit;
mod chat_ports;
mod dto;
mod error;
mod files;
mod seed;
mod settings;
mod tags;
mod time_format;
mod upload;
mod upload_slots;
mod v1;

use poem::{Endpoint, EndpointExt as _, IntoEndpoint as _, Route};
use poem_openapi::OpenApiService;

pub use chat_ports::ChatPorts;
pub use error::ErrorBody;
pub use settings::RestSettings;

/// The API's title in the OpenAPI document.
const TITLE: &str = "chat-server";

/// Every group of operations of the REST API.
type Operations = (v1::UserApi, seed::SeedApi, files::FileApi);

/// Every operation of the REST API, for serving and for documenting.
pub fn api(chat: &ChatPorts, settings: &RestSettings) -> OpenApiService<Operations, ()> {
    OpenApiService::new(
        (
            v1::UserApi::new(chat.access.clone(), chat.reading.clone()),
            seed::SeedApi::new(
                chat.access.clone(),
                chat.reading.clone(),
                chat.roster.clone(),
                settings.service_token.clone(),
            ),
            files::FileApi::new(chat.access.clone(), chat.file_sharing.clone(), settings),
        ),
        TITLE,
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "REST API of the chat server: room lists, history, unread counts, presence \
         (`/api/v1`, user JWT as `Authorization: Bearer`), and the endpoints the seed's \
         services call (`/chat-server`). Real-time chat itself is STOMP over WebSocket at \
         `/my-chat/websocket`.",
    )
}

/// The OpenAPI document as JSON, as served at `/openapi.json`.
pub fn openapi_json(chat: &ChatPorts, settings: &RestSettings) -> String {
    api(chat, settings).spec()
}

/// The REST routes: the API at `/`, `/openapi.json` and Swagger UI at `/docs`.
/// Errors poem-openapi raises before a handler runs (bad parameters, missing
/// credentials, oversize bodies) get the same JSON error shape as handler errors.
pub fn routes(chat: &ChatPorts, settings: &RestSettings) -> impl Endpoint + use<> {
    let service = api(chat, settings);
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    let max_body = settings.max_body_bytes;
    let max_upload = settings.max_upload_bytes();
    Route::new()
        .nest("/openapi.json", spec)
        .nest("/docs", docs)
        .nest(
            "/",
            service
                .into_endpoint()
                .around(move |api, request| async move {
                    body_limit::limit_body(&api, request, max_body, max_upload).await
                }),
        )
        .catch_all_error(error::render_framework_error)
}

//! A small HTTP client for the REST API of the server under test.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The built-in development service token the server uses unless configured otherwise
/// (only accepted on loopback without cluster services).
pub const DEVELOPMENT_SERVICE_TOKEN: &str = "chat-server-development-service-token";

/// The service token every test server is configured with (at least 32 bytes), and that
/// [`RestClient::call`] sends.
pub const TEST_SERVICE_TOKEN: &str = "chat-tests-service-token-0123456789abcdef";

/// Calls the REST API of one server.
pub struct RestClient {
    base: String,
    service_token: String,
    http: reqwest::Client,
}

impl RestClient {
    /// A client for the server at `base` (`http://127.0.0.1:port`) configured with
    /// [`TEST_SERVICE_TOKEN`].
    pub fn new(base: String) -> Self {
        Self::with_service_token(base, TEST_SERVICE_TOKEN)
    }

    /// A client for the server at `base` whose service token is `service_token`.
    pub fn with_service_token(base: String, service_token: &str) -> Self {
        Self {
            base,
            service_token: service_token.to_owned(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
        }
    }

    /// Sends a request; `token` as `Authorization: Bearer`, `service` adds `X-Service-Token`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        service: bool,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if service {
            request = request.header("X-Service-Token", &self.service_token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("HTTP request");
        let status = response.status();
        let text = response.text().await.expect("HTTP body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    /// `GET` with a user token.
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), false, None).await
    }

    /// Every message of DM room `room`, oldest first, read page by page (`after` cursors) as
    /// the user of `token`.
    pub async fn direct_history(&self, room: u64, token: &str) -> Vec<Value> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let after = all
                .last()
                .and_then(|last| last["id"].as_str())
                .map_or_else(String::new, |id| format!("&after={id}"));
            let (status, page) = self
                .get(
                    &format!("/api/v1/direct/{room}/messages?order=oldest&limit=100{after}"),
                    token,
                )
                .await;
            assert!(
                status.is_success(),
                "history of room {room}: {status} {page}"
            );
            let messages = page["messages"].as_array().expect("messages").clone();
            if messages.is_empty() {
                return all;
            }
            all.extend(messages);
        }
    }

    /// `GET` returning the raw body text and content type.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("HTTP request");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            content_type,
            response.text().await.expect("HTTP body"),
        )
    }
}

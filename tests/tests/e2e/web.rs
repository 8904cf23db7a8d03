//! The web chat page and the development token endpoint, over real HTTP against
//! the running binary: the page is served at `/` with a strict policy next to every
//! other route, and development tokens exist only with the development secret.

use chat_tests::{StompClient, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

async fn request_token(server: &TestServer, body: &Value) -> (StatusCode, Value) {
    let response = http()
        .post(format!("{}/dev/token", server.http_url()))
        .json(body)
        .send()
        .await
        .expect("HTTP request");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

async fn development_tokens_flag(server: &TestServer) -> Value {
    let (status, content_type, body) = server.rest().get_text("/web/config.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    serde_json::from_str::<Value>(&body).expect("JSON")["developmentTokens"].clone()
}

#[tokio::test]
async fn the_page_is_served_at_the_root_with_a_strict_content_security_policy() {
    let server = TestServer::start();

    let response = http()
        .get(format!("{}/", server.http_url()))
        .send()
        .await
        .expect("HTTP request");

    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert_eq!(header("cache-control"), "no-cache");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let policy = header("content-security-policy");
    assert!(policy.starts_with("default-src 'self';"), "{policy}");
    let host = server.http_url().replace("http://", "");
    assert!(
        policy.contains(&format!("connect-src 'self' ws://{host} wss://{host};")),
        "{policy}"
    );
    let page = response.text().await.expect("HTML");
    assert!(page.contains(r#"<script type="module" src="/web/app.js">"#));

    let (status, content_type, script) = server.rest().get_text("/web/app.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/javascript; charset=utf-8");
    assert!(script.contains("/my-chat/websocket"));
}

#[tokio::test]
async fn the_page_shadows_none_of_the_other_routes() {
    let server = TestServer::start();
    let rest = server.rest();

    let (openapi, _, document) = rest.get_text("/openapi.json").await;
    let (docs, _, _) = rest.get_text("/docs").await;
    let (rooms, _, _) = rest.get_text("/api/v1/rooms").await;
    let (health, _, _) = rest.get_text("/healthz").await;
    let (unknown, _, _) = rest.get_text("/no-such-page").await;

    assert_eq!(openapi, StatusCode::OK);
    assert!(
        !document.contains("/dev/token"),
        "development routes stay out of the API document"
    );
    assert_eq!(docs, StatusCode::OK);
    assert_eq!(rooms, StatusCode::UNAUTHORIZED);
    assert_eq!(health, StatusCode::OK);
    assert_eq!(unknown, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_development_token_is_issued_with_the_development_secret_and_opens_a_session() {
    let server = TestServer::start_with_built_in_credentials(&[]);

    let (status, body) = request_token(&server, &json!({"userId": 7, "name": "gil"})).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(development_tokens_flag(&server).await, json!(true));
    let token = body["token"].as_str().expect("a token");
    let (_client, reply) = StompClient::try_connect(&server.ws_url(), token, "7").await;
    assert_eq!(reply.command, "CONNECTED", "{reply:?}");
    assert_eq!(
        server
            .wait_for_log_lines("development tokens are on", 1)
            .len(),
        1,
        "a warning at start-up says development tokens are on"
    );
}

#[tokio::test]
async fn a_bad_token_request_gets_a_clear_error() {
    let server = TestServer::start_with_built_in_credentials(&[]);

    let (status, body) = request_token(&server, &json!({"userId": 0, "name": "gil"})).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_payload");
    assert!(
        body["message"]
            .as_str()
            .expect("a message")
            .contains("userId")
    );
}

#[tokio::test]
async fn the_token_endpoint_is_not_found_with_a_configured_secret() {
    let server =
        TestServer::start_with(&[("CHAT_JWT__SECRET", "a-production-secret-of-32-bytes!!")]);

    let (status, _) = request_token(&server, &json!({"userId": 7, "name": "gil"})).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(development_tokens_flag(&server).await, json!(false));
    assert!(
        server
            .log_lines_containing("development tokens are on")
            .is_empty()
    );
    let (page, _, _) = server.rest().get_text("/").await;
    assert_eq!(
        page,
        StatusCode::OK,
        "the page is served; it asks for a token"
    );
}

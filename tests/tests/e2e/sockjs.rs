//! SockJS at `/my-chat`: the protocol details (info, framing, `xhr_send` errors, session
//! timeout, a second receiver) with plain HTTP and WebSocket clients, and STOMP inside
//! it behaving as on the raw WebSocket. Real client libraries are driven by
//! `tools/interop/` (sockjs-client, webstomp-client, @stomp/stompjs).

use std::time::Duration;

use chat_tests::{StompClient, TestServer, token};
use futures::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A STOMP frame as text, as a SockJS client sends it inside a JSON array.
fn stomp(command: &str, headers: &[(&str, &str)], body: &str) -> String {
    chat_tests::frame_text(command, headers, body)
}

/// The messages of an `a[…]` frame.
fn messages(frame: &str) -> Vec<String> {
    let array = frame
        .trim_end()
        .strip_prefix('a')
        .unwrap_or_else(|| panic!("not a message frame: {frame:?}"));
    serde_json::from_str(array).expect("a JSON array of strings")
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message of a SockJS WebSocket (`closed` once it closes).
async fn next_text(ws: &mut Socket) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time");
        match message {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Close(_)) | Err(_)) | None => return "closed".to_owned(),
            Some(Ok(_)) => {}
        }
    }
}

/// One SockJS session over the HTTP transports.
struct HttpSession {
    http: reqwest::Client,
    url: String,
}

impl HttpSession {
    fn new(server: &TestServer, session: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            url: format!("{}/my-chat/000/{session}", server.http_url()),
        }
    }

    /// One `xhr` poll: status and body.
    async fn poll(&self) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/xhr", self.url))
            .send()
            .await
            .expect("poll answered");
        (response.status(), response.text().await.expect("poll body"))
    }

    async fn send_raw(&self, body: &str) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/xhr_send", self.url))
            .header("content-type", "text/plain")
            .body(body.to_owned())
            .send()
            .await
            .expect("xhr_send answered");
        (response.status(), response.text().await.expect("body"))
    }

    async fn send(&self, frames: &[String]) {
        let (status, body) = self.send_raw(&json!(frames).to_string()).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    /// Polls until a message frame arrives (skipping heart-beats); its messages.
    async fn receive(&self) -> Vec<String> {
        loop {
            let (status, body) = self.poll().await;
            assert_eq!(status, StatusCode::OK);
            if body != "h\n" {
                return messages(&body);
            }
        }
    }

    /// Opens the session and connects STOMP as `user`; the CONNECTED frame.
    async fn connect(&self, user: u64, name: &str) -> String {
        assert_eq!(self.poll().await, (StatusCode::OK, "o\n".to_owned()));
        let token = token(user, name);
        self.send(&[stomp(
            "CONNECT",
            &[
                ("accept-version", "1.2"),
                ("heart-beat", "10000,10000"),
                ("access-token", &token),
                ("user-id", &user.to_string()),
            ],
            "",
        )])
        .await;
        let connected = self.receive().await;
        assert_eq!(connected.len(), 1, "{connected:?}");
        connected[0].clone()
    }
}

#[tokio::test]
async fn info_describes_the_server_uncached_and_open_to_any_origin() {
    let server = TestServer::start();
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/my-chat/info", server.http_url()))
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/json;charset=UTF-8")
    );
    assert_eq!(
        header("cache-control").as_deref(),
        Some("no-store, no-cache, no-transform, must-revalidate, max-age=0")
    );
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("http://app.example")
    );
    assert_eq!(
        header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["websocket"], true);
    assert_eq!(info["origins"], json!(["*:*"]));
    assert_eq!(info["cookie_needed"], false);
    assert!(info["entropy"].is_u64(), "{info}");

    let greeting = http
        .get(format!("{}/my-chat", server.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(greeting.text().await.unwrap(), "Welcome to SockJS!\n");

    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/my-chat/000/abc/xhr_send", server.http_url()),
        )
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let allowed = |name: &str| preflight.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(allowed("access-control-allow-methods"), "OPTIONS, POST");
    assert_eq!(allowed("access-control-allow-headers"), "content-type");
    assert_eq!(allowed("access-control-max-age"), "31536000");
}

#[tokio::test]
async fn stomp_runs_inside_sockjs_frames_over_xhr_polling() {
    let server = TestServer::start();
    let session = HttpSession::new(&server, "polling-stomp");
    let connected = session.connect(1, "alice").await;
    assert!(connected.starts_with("CONNECTED\n"), "{connected:?}");
    assert!(connected.contains("\nuser-name:1\n"), "{connected:?}");
    // Polling promises no server heart-beats; the client's arrive at once on xhr_send.
    assert!(
        connected.contains("\nheart-beat:0,10000\n"),
        "{connected:?}"
    );

    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("dm", "/topic/direct/5").await;
    session
        .send(&[
            stomp(
                "SUBSCRIBE",
                &[("id", "s1"), ("destination", "/topic/direct/5")],
                "",
            ),
            stomp(
                "SEND",
                &[
                    ("destination", "/kafka/send-direct-message"),
                    ("receipt", "r1"),
                ],
                r#"{"content":"hello over xhr","channelId":"5"}"#,
            ),
        ])
        .await;
    let mut frames = Vec::new();
    while frames.len() < 2 {
        frames.extend(session.receive().await);
    }
    assert!(
        frames
            .iter()
            .any(|f| f.starts_with("RECEIPT\nreceipt-id:r1\n")),
        "{frames:?}"
    );
    let message = frames
        .iter()
        .find(|f| f.starts_with("MESSAGE\n"))
        .expect("alice hears her own message");
    assert!(message.contains("hello over xhr"), "{message:?}");
    let (_, event) = bob.next_message().await;
    assert_eq!(event["message"], "hello over xhr");
    assert_eq!(event["userId"], "1");
}

#[tokio::test]
async fn xhr_send_refuses_unknown_sessions_and_broken_json_in_sockjs_words() {
    let server = TestServer::start();
    let unknown = HttpSession::new(&server, "never-opened");
    assert_eq!(unknown.send_raw(r#"["a"]"#).await.0, StatusCode::NOT_FOUND);

    let session = HttpSession::new(&server, "broken-json");
    assert_eq!(session.poll().await, (StatusCode::OK, "o\n".to_owned()));
    assert_eq!(
        session.send_raw(r#"["x"#).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Broken JSON encoding.".to_owned()
        )
    );
    assert_eq!(
        session.send_raw("").await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Payload expected.".to_owned()
        )
    );
    assert_eq!(session.send_raw("[]").await.0, StatusCode::NO_CONTENT);

    let http = reqwest::Client::new();
    for bad in ["a./b", "a/b.", "./."] {
        let status = http
            .post(format!("{}/my-chat/{bad}/xhr", server.http_url()))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn a_second_receiving_request_is_turned_away_with_2010() {
    let server = TestServer::start_with(&[("CHAT_STOMP__SOCKJS__HEARTBEAT_MS", "2000")]);
    let session = HttpSession::new(&server, "two-receivers");
    assert_eq!(session.poll().await.1, "o\n");
    let first = {
        let http = session.http.clone();
        let url = format!("{}/xhr", session.url);
        tokio::spawn(async move { http.post(url).send().await.unwrap().text().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        session.poll().await,
        (
            StatusCode::OK,
            "c[2010,\"Another connection still open\"]\n".to_owned()
        )
    );
    // The first poll is unharmed: SockJS's heart-beat answers it.
    assert_eq!(first.await.unwrap(), "h\n");
}

#[tokio::test]
async fn a_session_without_receiving_request_times_out_and_its_rooms_hear_disconnect() {
    let server = TestServer::start_with(&[("CHAT_STOMP__SOCKJS__DISCONNECT_DELAY_MS", "1000")]);
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("dm", "/topic/direct/5").await;

    let alice = HttpSession::new(&server, "abandoned");
    alice.connect(1, "alice").await;
    alice
        .send(&[stomp(
            "SUBSCRIBE",
            &[
                ("id", "s1"),
                ("destination", "/topic/direct/5"),
                ("receipt", "sub"),
            ],
            "",
        )])
        .await;
    assert!(alice.receive().await[0].starts_with("RECEIPT\n"));

    // alice stops polling: after the disconnect delay her STOMP session ends.
    let gone = bob
        .wait_for_event_on("/topic/direct/5", Duration::from_secs(5))
        .await;
    assert_eq!(gone, Some(json!({"type": "disconnect", "userId": "1"})));
    // For a while the closed session answers with its close frame.
    assert_eq!(alice.poll().await.1, "c[1002,\"Connection interrupted\"]\n");
    assert_eq!(alice.send_raw(r#"["\n"]"#).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_websocket_transport_carries_stomp_in_sockjs_frames_and_ends_with_go_away() {
    let server = TestServer::start();
    let url = format!(
        "ws://{}/my-chat/123/ws-session/websocket",
        server.http_url().trim_start_matches("http://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("handshake");
    assert_eq!(next_text(&mut ws).await, "o");
    let token = token(1, "alice");
    let connect = stomp(
        "CONNECT",
        &[
            ("accept-version", "1.2"),
            ("access-token", &token),
            ("heart-beat", "0,0"),
        ],
        "",
    );
    ws.send(Message::text(json!([connect]).to_string()))
        .await
        .unwrap();
    let connected = messages(&next_text(&mut ws).await);
    assert!(connected[0].starts_with("CONNECTED\n"), "{connected:?}");
    assert!(connected[0].contains("\nheart-beat:0,0\n"));
    // A single JSON string is accepted as well as an array.
    let disconnect = stomp("DISCONNECT", &[("receipt", "bye")], "");
    ws.send(Message::text(json!(disconnect).to_string()))
        .await
        .unwrap();
    let receipt = messages(&next_text(&mut ws).await);
    assert!(
        receipt[0].starts_with("RECEIPT\nreceipt-id:bye\n"),
        "{receipt:?}"
    );
    assert_eq!(next_text(&mut ws).await, "c[3000,\"Go away!\"]");
}

#[tokio::test]
async fn broken_json_on_the_websocket_transport_closes_the_session() {
    let server = TestServer::start();
    let url = format!(
        "ws://{}/my-chat/123/broken/websocket",
        server.http_url().trim_start_matches("http://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("handshake");
    assert_eq!(next_text(&mut ws).await, "o");
    ws.send(Message::text(r#"["a"#)).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await,
        "c[1002,\"Broken JSON encoding.\"]"
    );
    assert_eq!(next_text(&mut ws).await, "closed");
}

#[tokio::test]
async fn a_sockjs_session_over_the_per_address_cap_is_refused_with_429_like_a_websocket() {
    let server = TestServer::start_with(&[("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "1")]);
    let first = HttpSession::new(&server, "first");
    assert_eq!(first.poll().await, (StatusCode::OK, "o\n".to_owned()));

    let (second, _) = HttpSession::new(&server, "second").poll().await;
    let websocket = StompClient::try_open(&server.ws_url()).await.map(drop);

    assert_eq!(second, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        websocket,
        Err(429),
        "the SockJS session holds the address's place"
    );
}

#[tokio::test]
async fn a_sockjs_session_of_a_user_at_the_per_user_cap_gets_an_error_frame() {
    let server = TestServer::start_with(&[("CHAT_STOMP__MAX_CONNECTIONS_PER_USER", "1")]);
    let _websocket = StompClient::connect(&server.ws_url(), 1, "alice").await;

    let reply = HttpSession::new(&server, "alice-again")
        .connect(1, "alice")
        .await;

    assert!(reply.starts_with("ERROR\n"), "{reply}");
    assert!(reply.contains("message:too many connections"), "{reply}");
    let bob = HttpSession::new(&server, "bob").connect(2, "bob").await;
    assert!(bob.starts_with("CONNECTED\n"), "{bob}");
}

//! A fake of the app's auth service: answers the seed's `POST {base}/find-id-list` (a JSON array
//! of ids → the seed's envelope with a `result` object of profiles by id) on a real TCP port, records
//! every request byte for byte, and misbehaves on demand (an error status, slowness, a few 500s).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The path prefix the fake serves under, like the seed's `…/auth-server`.
const PREFIX: &str = "/auth-server";

/// A profile the fake knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeProfile {
    /// Display name.
    pub name: String,
    /// Image URL.
    pub image: Option<String>,
}

impl FakeProfile {
    /// A profile named `name` with image `image`.
    pub fn new(name: &str, image: Option<&str>) -> Self {
        Self {
            name: name.to_owned(),
            image: image.map(str::to_owned),
        }
    }
}

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `POST`, `GET`, …
    pub method: String,
    /// The request target, e.g. `/auth-server/find-id-list`.
    pub path: String,
    /// Header names (lower case) to values.
    pub headers: HashMap<String, String>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<u64, FakeProfile>,
    /// Every request answers this status with an error envelope.
    outage: Option<u16>,
    /// The next this-many requests answer 500.
    failures_left: usize,
    /// Wait this long before answering.
    delay: Duration,
    requests: Vec<RecordedRequest>,
}

impl State {
    fn respond(&mut self, request: &RecordedRequest) -> (u16, String) {
        if self.failures_left > 0 {
            self.failures_left -= 1;
            return (500, r#"{"error":"boom"}"#.to_owned());
        }
        if let Some(status) = self.outage {
            return (
                status,
                r#"{"isSuccess":false,"code":2004,"message":"nope"}"#.to_owned(),
            );
        }
        if request.method != "POST" || request.path != format!("{PREFIX}/find-id-list") {
            return (404, r#"{"error":"not found"}"#.to_owned());
        }
        let Ok(ids) = serde_json::from_slice::<Vec<u64>>(&request.body) else {
            return (
                400,
                r#"{"isSuccess":false,"code":2000,"message":"bad body"}"#.to_owned(),
            );
        };
        let result: serde_json::Map<String, Value> = ids
            .iter()
            .filter_map(|id| {
                let profile = self.users.get(id)?;
                Some((
                    id.to_string(),
                    json!({"id": id, "name": profile.name, "code": "1234",
                           "image": profile.image, "state": "online"}),
                ))
            })
            .collect();
        let body = json!({"isSuccess": true, "code": 1000,
                          "message": "요청에 성공하였습니다.", "result": result});
        (200, body.to_string())
    }
}

/// A running fake auth service; it stops when dropped.
pub struct FakeAuthService {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accepting: JoinHandle<()>,
}

impl FakeAuthService {
    /// Starts serving `users` (id → profile) on a free loopback port.
    #[expect(
        clippy::unused_async,
        reason = "the fakes' runtime serves; start stays async like the other test services'"
    )]
    pub async fn start(users: HashMap<u64, FakeProfile>) -> Self {
        let (listener, addr) = crate::fake_runtime::loopback_listener();
        let state = Arc::new(Mutex::new(State {
            users,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let accepting = crate::fake_runtime::serve(listener, |listener| async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, Arc::clone(&shared)));
            }
        });
        Self {
            addr,
            state,
            accepting,
        }
    }

    /// The base URL to configure the chat server with (`http://127.0.0.1:…/auth-server`).
    pub fn base_url(&self) -> String {
        format!("http://{}{PREFIX}", self.addr)
    }

    /// Replaces (or adds) what the fake knows of `user`.
    pub fn set_user(&self, user: u64, profile: FakeProfile) {
        self.state.lock().unwrap().users.insert(user, profile);
    }

    /// From now on every request answers `status` (`None`: back to normal).
    pub fn set_outage(&self, status: Option<u16>) {
        self.state.lock().unwrap().outage = status;
    }

    /// The next `count` requests answer 500.
    pub fn fail_next(&self, count: usize) {
        self.state.lock().unwrap().failures_left = count;
    }

    /// Every answer waits `delay` first.
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many `find-id-list` lookups arrived.
    pub fn lookups(&self) -> usize {
        let path = format!("{PREFIX}/find-id-list");
        self.requests()
            .iter()
            .filter(|request| request.path == path)
            .count()
    }

    /// Stops accepting connections: later calls find nothing listening.
    pub fn stop(&self) {
        self.accepting.abort();
    }
}

impl Drop for FakeAuthService {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Reads one request (head, then a body of `content-length` bytes), answers it and closes.
async fn answer(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut received = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&chunk[..read]),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or("/").to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|length| length.parse().ok())
        .unwrap_or(0);
    while received.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&chunk[..read]),
        }
    }
    let request = RecordedRequest {
        method,
        path,
        headers,
        body: received[head_end..head_end + length].to_vec(),
    };
    let (delay, (status, body)) = {
        let mut state = state.lock().unwrap();
        let reply = state.respond(&request);
        state.requests.push(request);
        (state.delay, reply)
    };
    tokio::time::sleep(delay).await;
    let response = format!(
        "HTTP/1.1 {status} Fake\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The client may have given up (timeout tests); that is fine.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

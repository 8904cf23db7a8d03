//! A fake of the app's state server: speaks its CRLF line protocol on a real TCP
//! port, records every request line, and answers like the seed's presence service.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// A running fake state server.
pub struct FakeStateServer {
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

/// The reply the seed's presence service gives to a request line.
fn reply_to(line: &str) -> String {
    let field = |name: &str| {
        line.split(&format!("{name}='"))
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or("null")
            .to_owned()
    };
    match field("type").as_str() {
        "logout" => "1,home".to_owned(),
        "state" => format!("home,{}", field("channel_id")),
        "before-enter" | "enter" => r#"{"12":["1"]}"#.to_owned(),
        _ => "반환메세지".to_owned(),
    }
}

impl FakeStateServer {
    /// Starts listening on a free loopback port.
    #[expect(
        clippy::unused_async,
        reason = "the fakes' runtime serves; start stays async like the other test services'"
    )]
    pub async fn start() -> Self {
        let (listener, addr) = crate::fake_runtime::loopback_listener();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let recorded = lines.clone();
        crate::fake_runtime::serve(listener, |listener| async move {
            while let Ok((socket, _)) = listener.accept().await {
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut reader = BufReader::new(read).lines();
                    while let Ok(Some(line)) = reader.next_line().await {
                        let line = line.trim_end_matches('\r').to_owned();
                        let reply = reply_to(&line);
                        recorded.lock().unwrap().push(line);
                        if write
                            .write_all(format!("{reply}\r\n").as_bytes())
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        Self { addr, lines }
    }

    /// `host:port` to configure the chat server with.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Every request line received so far whose `type` is `kind`.
    pub fn requests(&self, kind: &str) -> Vec<String> {
        let needle = format!("{{type='{kind}',");
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(&needle))
            .cloned()
            .collect()
    }

    /// Waits (up to 5 s) until `count` requests of type `kind` have arrived.
    pub async fn wait_for(&self, kind: &str, count: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let lines = self.requests(kind);
            if lines.len() >= count || tokio::time::Instant::now() >= deadline {
                return lines;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

//! The real `chat-server` binary, started on port 0 and stopped on drop.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running server process and everything it logged.
pub struct TestServer {
    child: Child,
    addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    service_token: String,
}

/// The binary built by `cargo build -p chat-bootstrap` in the same target directory
/// as this executable (a test lives in `target/<profile>/deps/`, a tool in `target/<profile>/`).
/// `CHAT_TEST_SERVER_BIN` names another binary (load tools compare two builds with it).
pub(crate) fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHAT_TEST_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("executable path");
    let name = format!("chat-server{}", std::env::consts::EXE_SUFFIX);
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(&name))
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!(
                "no {name} next to {}: build it first (`cargo build -p chat-bootstrap`), as the README's test command does",
                exe.display()
            )
        })
}

impl TestServer {
    /// Starts the server in embedded mode on a free port.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts the server with extra `CHAT_*` environment settings, on top of the test
    /// credentials ([`crate::TEST_JWT_SECRET`], [`crate::TEST_SERVICE_TOKEN`]) that a
    /// deployment must set (the built-in ones are refused outside local development).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::spawn(env, true)
    }

    /// Starts the server with extra `CHAT_*` settings and the built-in development
    /// credentials, as `cargo run` does: tokens must be signed with
    /// [`crate::DEVELOPMENT_SECRET`].
    pub fn start_with_built_in_credentials(env: &[(&str, &str)]) -> Self {
        Self::spawn(env, false)
    }

    /// Runs the binary with exactly `env` on top of the defaults (no test credentials),
    /// expecting it to refuse to start: returns what it printed. Panics when it starts
    /// listening or does not exit within 30 s.
    pub fn refused_start(env: &[(&str, &str)]) -> String {
        let mut command = Self::command(env, false);
        command.stderr(Stdio::piped());
        let mut child = command.spawn().expect("chat-server starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let readers = [
            drain(
                child.stdout.take().expect("stdout is piped"),
                output.clone(),
            ),
            drain(
                child.stderr.take().expect("stderr is piped"),
                output.clone(),
            ),
        ];
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("process status") {
                break status;
            }
            let listening = output
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains("listening on http://"));
            if listening || std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chat-server started instead of refusing:\n{}",
                    output.lock().unwrap().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in readers {
            let _ = reader.join();
        }
        let output = output.lock().unwrap().join("\n");
        assert!(!status.success(), "a refusal exits with failure:\n{output}");
        output
    }

    fn command(env: &[(&str, &str)], test_credentials: bool) -> Command {
        let mut command = Command::new(binary());
        command
            .env("CHAT_HTTP__PORT", "0")
            .env("CHAT_LOG__FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("CHAT_CONFIG")
            .env_remove("CHAT_JWT__SECRET")
            .env_remove("CHAT_REST__SERVICE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if test_credentials {
            command
                .env("CHAT_JWT__SECRET", crate::TEST_JWT_SECRET)
                .env("CHAT_REST__SERVICE_TOKEN", crate::TEST_SERVICE_TOKEN);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    fn spawn(env: &[(&str, &str)], test_credentials: bool) -> Self {
        let service_token = env
            .iter()
            .rev()
            .find(|(key, _)| *key == "CHAT_REST__SERVICE_TOKEN")
            .map_or(
                if test_credentials {
                    crate::TEST_SERVICE_TOKEN
                } else {
                    crate::DEVELOPMENT_SERVICE_TOKEN
                },
                |(_, value)| value,
            )
            .to_owned();
        let mut command = Self::command(env, test_credentials);
        let mut child = command.spawn().expect("chat-server starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = mpsc::channel();
        let sink = logs.clone();
        // Keep draining stdout for the whole run: a full pipe would block the server.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr: String = rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"')
                        .collect();
                    let _ = found.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = address
            .recv_timeout(Duration::from_secs(20))
            .expect("chat-server reports where it listens")
            .parse()
            .expect("a socket address");
        Self {
            child,
            addr,
            logs,
            service_token,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory in KiB (Linux `/proc`), if readable.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The HTTP base URL.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A REST client for this server.
    pub fn rest(&self) -> crate::RestClient {
        crate::RestClient::with_service_token(self.http_url(), &self.service_token)
    }

    /// The STOMP WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/my-chat/websocket", self.addr)
    }

    /// Every log line so far that contains `needle`.
    pub fn log_lines_containing(&self, needle: &str) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }

    /// Waits (up to 5 s) until at least `count` log lines contain `needle`, then
    /// returns them all: log lines reach the test through a pipe, a little after
    /// the server acted.
    pub fn wait_for_log_lines(&self, needle: &str, count: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.log_lines_containing(needle);
            if lines.len() >= count || std::time::Instant::now() >= deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM delivered");
        for _ in 0..200 {
            if let Some(exit) = self.child.try_wait().expect("process status") {
                return exit.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("chat-server did not stop within 10 s of SIGTERM");
    }
}

/// Collects the lines of `pipe` into `into` until it closes.
fn drain(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    })
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

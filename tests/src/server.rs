//! The real `chat-server` binary, started on port 0 and stopped on drop.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// A running server process and everything it logged.
pub struct TestServer {
    child: Child,
    addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    service_token: String,
}

/// The `chat-server` binary of the profile this executable was built with, in the same target
/// directory (a test lives in `target/<profile>/deps/`, a tool in `target/<profile>/`). Built
/// here when missing (`cargo build -p chat-bootstrap --bin chat-server --features cluster`), at most once per
/// process; concurrent test processes wait on cargo's own lock of the target directory, and
/// the later ones find it built. Built with every feature (`--features cluster`): the
/// cluster tests need Kafka, MongoDB, Redis and S3 in it, so a binary built without them
/// (as `cargo run` builds it) is rebuilt too. `CHAT_TEST_SERVER_BIN` names
/// another binary instead (load tools compare two builds with it).
pub(crate) fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("CHAT_TEST_SERVER_BIN") {
                return PathBuf::from(path);
            }
            let exe = std::env::current_exe().expect("executable path");
            let profile_dir = profile_dir(&exe);
            let binary = profile_dir.join(format!("chat-server{}", std::env::consts::EXE_SUFFIX));
            if !binary.exists() || !has_every_feature(&binary) {
                build(&profile_dir);
            }
            assert!(
                binary.exists(),
                "no {} after building it (built into another target directory?)",
                binary.display()
            );
            binary
        })
        .clone()
}

/// Whether `binary` was built with every real-service feature (`chat-server features`).
fn has_every_feature(binary: &Path) -> bool {
    let Ok(output) = Command::new(binary).arg("features").output() else {
        return false;
    };
    let built_in = String::from_utf8_lossy(&output.stdout);
    let built_in: Vec<&str> = built_in.split_whitespace().collect();
    output.status.success()
        && ["kafka", "mongo", "redis", "s3"]
            .iter()
            .all(|feature| built_in.contains(feature))
}

/// `target/<profile>` of an executable in it or in its `deps`.
fn profile_dir(exe: &Path) -> PathBuf {
    let dir = exe.parent().expect("the executable's directory");
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.parent().expect("the profile directory").to_owned()
    } else {
        dir.to_owned()
    }
}

/// Builds the server binary with the profile whose output goes to `profile_dir`.
fn build(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "build",
        "-p",
        "chat-bootstrap",
        "--bin",
        "chat-server",
        "--features",
        "cluster",
    ]);
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building chat-server failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asks `GET /readyz` once: its HTTP status, or `None` when nothing answered.
fn readyz_status(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).ok()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
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
        Self::spawn(env, true, None)
    }

    /// Starts the server as [`Self::start_with`] does, under a file-descriptor limit of
    /// `limit` (soft and hard, `ulimit -n` in a shell that then runs the binary), so it
    /// can be driven out of descriptors.
    pub fn start_with_descriptor_limit(limit: u32, env: &[(&str, &str)]) -> Self {
        Self::spawn(env, true, Some(limit))
    }

    /// Starts the server with extra `CHAT_*` settings and the built-in development
    /// credentials, as `cargo run` does: tokens must be signed with
    /// [`crate::DEVELOPMENT_SECRET`].
    pub fn start_with_built_in_credentials(env: &[(&str, &str)]) -> Self {
        Self::spawn(env, false, None)
    }

    /// Runs the binary with exactly `env` on top of the defaults (no test credentials),
    /// expecting it to refuse to start: returns what it printed. Panics when it starts
    /// listening or does not exit within 30 s.
    pub fn refused_start(env: &[(&str, &str)]) -> String {
        let mut command = Self::command(env, false, None);
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
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("process status") {
                break status;
            }
            let listening = output
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains("listening on http://"));
            if listening || Instant::now() >= deadline {
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

    /// Runs `chat-server <args>` with `env` on top of the defaults (no credentials) until it
    /// exits, and returns what it did (`migrate`, `token`).
    pub fn run_to_completion(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut command = Self::command(env, false, None);
        command.args(args).stderr(Stdio::piped());
        command.output().expect("chat-server runs")
    }

    /// The binary with `env`; under `descriptor_limit`, run by `sh` after `ulimit -n`
    /// (`exec`, so the process id is the server's).
    fn command(
        env: &[(&str, &str)],
        test_credentials: bool,
        descriptor_limit: Option<u32>,
    ) -> Command {
        let mut command = match descriptor_limit {
            None => Command::new(binary()),
            Some(limit) => {
                let mut shell = Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!(r#"ulimit -n {limit} && exec "$0" "$@""#))
                    .arg(binary());
                shell
            }
        };
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

    fn spawn(env: &[(&str, &str)], test_credentials: bool, descriptor_limit: Option<u32>) -> Self {
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
        let mut command = Self::command(env, test_credentials, descriptor_limit);
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
        let mut server = Self {
            child,
            addr,
            logs,
            service_token,
        };
        server.wait_until_serving();
        server
    }

    /// Waits (up to 20 s) until `/readyz` answers, 200 (ready or degraded) or 503 (not
    /// ready): the server serves requests. A 503 counts because a test may start a server
    /// whose dependency is down, or a cluster instance whose Kafka consumers are not assigned
    /// yet (the cluster then waits for 200 itself). Panics, with the log, when the server exits
    /// or answers anything else.
    fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(exit) = self.child.try_wait().expect("process status") {
                panic!(
                    "chat-server exited ({exit}) before serving:\n{}",
                    self.logs.lock().unwrap().join("\n")
                );
            }
            match readyz_status(self.addr) {
                Some(200 | 503) => return,
                Some(other) => panic!("/readyz answered {other}"),
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                None => panic!(
                    "chat-server did not answer /readyz within 20 s:\n{}",
                    self.logs.lock().unwrap().join("\n")
                ),
            }
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

    /// The CPU time the server has used so far, user and system (Linux `/proc`), if readable.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // After the command name in parentheses: state is field 3, utime and stime 14 and 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        #[allow(clippy::cast_precision_loss)]
        Some(ticks as f64 / clock_ticks_per_second())
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
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.log_lines_containing(needle);
            if lines.len() >= count || Instant::now() >= deadline {
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

/// The unit of `/proc/<pid>/stat`'s CPU times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
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

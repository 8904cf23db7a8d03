//! The real `chat-server` binary started with settings it must refuse: it exits instead of
//! listening, and what it said is returned.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the server with `env` (on a free port, JSON logs) and waits for it to exit; returns its
/// standard error and output. Panics if it is still running after 20 s (it started serving).
pub fn refused_start(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(crate::server::binary());
    command
        .env("CHAT_HTTP__PORT", "0")
        .env("CHAT_LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("CHAT_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("chat-server starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("process status") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chat-server was expected to refuse these settings, but kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut said = String::new();
    for stream in [
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read>),
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut stream = stream;
        let _ = stream.read_to_string(&mut said);
    }
    assert!(
        !status.success(),
        "chat-server exited successfully:\n{said}"
    );
    said
}

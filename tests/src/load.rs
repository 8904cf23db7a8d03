//! What the load tools in `src/bin/` share: the server they are pointed at (its URL, its
//! JWT secret), client sockets from chosen source addresses and ports (one address has
//! ~55,000 ports above 10,000), percentiles, and a server process's memory and CPU time as
//! `/proc` reports them.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

use crate::tokens::{DEVELOPMENT_SECRET, token_for};

/// The WebSocket URL of a server and the TCP address it names.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub addr: SocketAddr,
    secret: String,
}

impl Target {
    /// `url` as `ws://host:port/path`. Tokens are signed with `CHAT_JWT__SECRET`, the
    /// variable the server reads, or else the development secret an embedded server on
    /// loopback accepts.
    ///
    /// # Panics
    /// When the URL is not `ws://` or its host does not resolve.
    pub fn parse(url: &str) -> Self {
        let rest = url
            .strip_prefix("ws://")
            .unwrap_or_else(|| panic!("`{url}` is not a ws:// URL"));
        let authority = rest.split('/').next().unwrap_or(rest);
        let addr = authority
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("cannot resolve `{authority}`"));
        let secret =
            std::env::var("CHAT_JWT__SECRET").unwrap_or_else(|_| DEVELOPMENT_SECRET.to_owned());
        Self {
            url: url.to_owned(),
            addr,
            secret,
        }
    }

    /// A token the server accepts for `user`.
    pub fn token(&self, user: u64) -> String {
        token_for(&self.secret, user, &format!("user{user}"))
    }
}

/// Where client sockets come from: source addresses in turn, each through the ports
/// [`FIRST_PORT`]..=65535. The tools choose the port themselves: with tens of thousands of
/// sockets open, the kernel's own choice (`bind` to port 0) scans the port table on every
/// call and costs the client a core.
#[derive(Debug)]
pub struct Sources {
    addresses: Vec<IpAddr>,
    next: AtomicUsize,
}

/// The lowest source port used (below it: well-known and registered services' ports).
pub const FIRST_PORT: u16 = 10_000;

impl Sources {
    /// Source addresses from `127.0.0.1` (one), `127.0.0.1,127.0.0.2` (a list) or
    /// `127.0.0.1+4` (four consecutive addresses from the first; the whole of 127.0.0.0/8 is
    /// loopback); or `kernel`: the kernel chooses address and port, and Nagle's algorithm
    /// stays on, exactly as tokio-tungstenite's `connect_async` connects (to compare).
    ///
    /// # Panics
    /// On a malformed list.
    pub fn parse(spec: &str) -> Self {
        let addresses = if spec == "kernel" {
            Vec::new()
        } else if let Some((first, count)) = spec.split_once('+') {
            let first: Ipv4Addr = first.parse().expect("an IPv4 address before `+`");
            let count: u32 = count.parse().expect("a count after `+`");
            (0..count)
                .map(|i| IpAddr::V4(Ipv4Addr::from(u32::from(first) + i)))
                .collect()
        } else {
            spec.split(',')
                .map(|a| a.trim().parse().expect("an IP address"))
                .collect()
        };
        Self {
            addresses,
            next: AtomicUsize::new(0),
        }
    }

    /// How many source addresses there are (0: the kernel chooses).
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    /// Whether the kernel chooses the source.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    /// Where the connections come from, for a report.
    pub fn describe(&self) -> String {
        if self.addresses.is_empty() {
            "sources chosen by the kernel, Nagle on (as connect_async)".to_owned()
        } else {
            format!("{} source address(es)", self.addresses.len())
        }
    }

    fn next_local(&self) -> SocketAddr {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let ports = usize::from(u16::MAX - FIRST_PORT) + 1;
        let address = self.addresses[n % self.addresses.len()];
        let port = usize::from(FIRST_PORT) + (n / self.addresses.len()) % ports;
        SocketAddr::new(address, u16::try_from(port).expect("a port"))
    }

    /// A TCP connection to `server` from the next free source port, without Nagle's delay
    /// (as browsers open theirs). Ports in use (by another socket, or by a connection to
    /// `server` still in `TIME_WAIT`) are skipped.
    ///
    /// # Errors
    /// The socket's, the bind's or the connect's error, or `AddrInUse` when every port of
    /// every address was taken.
    pub async fn connect(&self, server: SocketAddr) -> std::io::Result<TcpStream> {
        if self.addresses.is_empty() {
            return TcpStream::connect(server).await;
        }
        let mut last = None;
        for _ in 0..self.addresses.len() * (usize::from(u16::MAX - FIRST_PORT) + 1) {
            let local = self.next_local();
            let socket = match local {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            let taken = |e: &std::io::Error| {
                matches!(e.kind(), ErrorKind::AddrInUse | ErrorKind::AddrNotAvailable)
            };
            match socket.bind(local) {
                Err(error) if taken(&error) => {
                    last = Some(error);
                    continue;
                }
                other => other?,
            }
            match socket.connect(server).await {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(error) if taken(&error) => last = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last.unwrap_or_else(|| ErrorKind::AddrInUse.into()))
    }
}

/// The `p` quantile (0..=1) of sorted samples.
///
/// # Panics
/// On no samples.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `p50=… p99=… max=…` in milliseconds, or `no samples`.
pub fn latency_summary(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".to_owned();
    }
    samples.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50={:.1} ms p99={:.1} ms max={:.1} ms",
        ms(percentile(samples, 0.50)),
        ms(percentile(samples, 0.99)),
        ms(samples[samples.len() - 1])
    )
}

/// A process's resident memory (`VmRSS`, KiB).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A process's CPU time so far, user and system together (`utime + stime`).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields counted are those after its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / clock_ticks_per_second(),
    ))
}

/// The unit of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100)
}

/// A process's soft limit on open files, from `/proc/<pid>/limits`.
pub fn open_files_limit(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

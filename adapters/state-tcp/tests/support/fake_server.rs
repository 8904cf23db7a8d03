//! A fake state server on a real socket: it speaks the CRLF framing, records every request line
//! exactly as received, and answers as each test tells it to (late, never, garbage...).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// What the fake server does with one request.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// Answers this line (CRLF added).
    Line(String),
    /// Answers this line after a pause.
    After(Duration, String),
    /// Writes these bytes as they are.
    Raw(Vec<u8>),
    /// Writes these pieces one by one, pausing in between, as a slow network would.
    Pieces(Vec<&'static [u8]>, Duration),
    /// Never answers; keeps the connection open.
    Never,
    /// Closes the connection without answering.
    Close,
}

type Responder = dyn Fn(&str) -> Reply + Send + Sync;

/// Counters shared with the connection tasks.
#[derive(Default)]
struct Record {
    /// Every request line as received, CRLF included.
    lines: Mutex<Vec<String>>,
    accepted: AtomicUsize,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

pub(crate) struct FakeStateServer {
    address: SocketAddr,
    record: Arc<Record>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FakeStateServer {
    /// Starts on a free port.
    pub(crate) async fn start(responder: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("address"), responder).await
    }

    /// Starts on `address`, e.g. the port of a server that was stopped.
    pub(crate) async fn start_on(
        address: SocketAddr,
        responder: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(address).await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let record = Arc::new(Record::default());
        let (shutdown, stopping) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(responder),
            Arc::clone(&record),
            stopping,
        ));
        Self {
            address,
            record,
            shutdown,
            task,
        }
    }

    pub(crate) fn socket_address(&self) -> SocketAddr {
        self.address
    }

    /// `host:port`, as the settings want it.
    pub(crate) fn address(&self) -> String {
        self.address.to_string()
    }

    /// Every request line received so far, CRLF included, in arrival order.
    pub(crate) fn received(&self) -> Vec<String> {
        self.record.lines.lock().expect("lock").clone()
    }

    pub(crate) fn connections_accepted(&self) -> usize {
        self.record.accepted.load(Ordering::SeqCst)
    }

    /// The most requests that were ever being answered at the same time.
    pub(crate) fn most_requests_at_once(&self) -> usize {
        self.record.most_in_flight.load(Ordering::SeqCst)
    }

    /// Stops listening and closes every connection; returns once all sockets are closed.
    pub(crate) async fn stop(self) {
        self.shutdown.send_replace(true);
        self.task.await.expect("the fake server stopped cleanly");
    }
}

async fn accept_loop(
    listener: TcpListener,
    responder: Arc<Responder>,
    record: Arc<Record>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    // Cloned for each connection; `stopping` itself is borrowed by `select!`.
    let watcher = stopping.clone();
    loop {
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => {
                let (stream, _) = accepted.expect("accept");
                record.accepted.fetch_add(1, Ordering::SeqCst);
                let responder = Arc::clone(&responder);
                let record = Arc::clone(&record);
                let mut stopping = watcher.clone();
                connections.spawn(async move {
                    tokio::select! {
                        () = serve(stream, &*responder, &record) => {}
                        _ = stopping.wait_for(|stop| *stop) => {}
                    }
                });
            }
        }
    }
    drop(listener);
    // Each task drops its socket as it ends, so once all have ended every client sees EOF.
    while connections.join_next().await.is_some() {}
}

async fn serve(stream: TcpStream, responder: &Responder, record: &Record) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        record.lines.lock().expect("lock").push(text.clone());
        let now = record.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        record.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let request = text.strip_suffix("\r\n").unwrap_or(&text);
        let bytes = match responder(request) {
            Reply::Line(reply) => format!("{reply}\r\n").into_bytes(),
            Reply::After(pause, reply) => {
                tokio::time::sleep(pause).await;
                format!("{reply}\r\n").into_bytes()
            }
            Reply::Raw(bytes) => bytes,
            Reply::Pieces(pieces, pause) => {
                let Some((last, first)) = pieces.split_last() else {
                    return;
                };
                for piece in first {
                    if writer.write_all(piece).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(pause).await;
                }
                last.to_vec()
            }
            Reply::Never => std::future::pending().await,
            Reply::Close => Vec::new(),
        };
        record.in_flight.fetch_sub(1, Ordering::SeqCst);
        if bytes.is_empty() || writer.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Answers each request type (`login`, `state`...) with a fixed reply, in either wire format.
pub(crate) fn by_type(replies: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Reply + use<> {
    let replies = replies.to_vec();
    move |request: &str| {
        replies
            .iter()
            .find(|(kind, _)| {
                request.starts_with(&format!("{{type='{kind}'"))
                    || request.starts_with(&format!("{{\"type\":\"{kind}\""))
            })
            .map_or(Reply::Close, |(_, reply)| Reply::Line((*reply).to_owned()))
    }
}

/// Answers every request with the same line.
pub(crate) fn always(reply: &'static str) -> impl Fn(&str) -> Reply + use<> {
    move |_: &str| Reply::Line(reply.to_owned())
}

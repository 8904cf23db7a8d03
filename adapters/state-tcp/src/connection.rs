//! One TCP connection to the state server: CRLF framing (the seed's `ByteArrayCrLfSerializer`)
//! and exactly one request/reply in flight.
//!
//! Modelled on mini-redis's `Connection`: a `BytesMut` read buffer filled with `read_buf` and
//! scanned for the terminator, where reading 0 bytes means the peer closed. Unlike a codec this
//! knows the protocol is strictly request/reply, so bytes that arrive when no request is
//! outstanding are a desynchronised stream and make the connection unusable.

use anyhow::{Context as _, anyhow, bail};
use bytes::{Buf as _, BytesMut};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const CRLF: &[u8] = b"\r\n";

/// An open connection, idle between round trips.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet consumed; empty between round trips on a healthy connection.
    buffer: BytesMut,
    /// Longest reply line (terminator included) we are willing to buffer.
    max_reply_bytes: usize,
}

impl Connection {
    /// Connects to `address` (`host:port`, resolved now, off the runtime's threads by tokio).
    pub(crate) async fn connect(address: &str, max_reply_bytes: usize) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("could not connect to the state server at {address}"))?;
        // Requests are single small writes answered before the next one: Nagle's algorithm
        // would only add latency.
        stream
            .set_nodelay(true)
            .context("could not set TCP_NODELAY")?;
        Ok(Self {
            stream,
            buffer: BytesMut::with_capacity(512),
            max_reply_bytes,
        })
    }

    /// Whether an idle connection can still carry a request: the peer has not closed it and has
    /// not sent anything unasked. Checked without waiting, right before reuse, so a connection
    /// to a server that restarted is replaced instead of failing the caller's request.
    ///
    /// Best effort by design: it never waits, so it sees what tokio's driver has already seen.
    /// That covers a peer that closed while the connection sat idle (the last read of a round
    /// trip returned data, so tokio still holds read readiness and really asks the socket). A
    /// connection it misses fails that one call, is dropped, and the next call dials afresh.
    pub(crate) fn is_reusable(&mut self) -> bool {
        if !self.buffer.is_empty() {
            return false;
        }
        match self.stream.try_read_buf(&mut self.buffer) {
            // Nothing to read: the usual, healthy case.
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => true,
            // 0 bytes is the peer's FIN; any bytes are unasked for; any error is fatal.
            Ok(_) | Err(_) => false,
        }
    }

    /// Sends `line` (without terminator) and reads the one-line reply (without terminator).
    ///
    /// Any error leaves the connection in an unknown state: the caller must drop it.
    pub(crate) async fn round_trip(&mut self, line: &str) -> anyhow::Result<String> {
        if !self.buffer.is_empty() {
            bail!("the connection holds bytes nobody asked for");
        }
        let mut frame = Vec::with_capacity(line.len() + CRLF.len());
        frame.extend_from_slice(line.as_bytes());
        frame.extend_from_slice(CRLF);
        self.stream
            .write_all(&frame)
            .await
            .context("could not send the request")?;
        let reply = self.read_line().await?;
        if !self.buffer.is_empty() {
            // A second line (or part of one) came with the reply: the stream is no longer
            // request/reply aligned, so this reply cannot be trusted to be ours.
            bail!("the state server sent more than one reply line");
        }
        Ok(reply)
    }

    async fn read_line(&mut self) -> anyhow::Result<String> {
        // Where the CRLF search resumes, so a reply arriving in pieces is scanned once.
        let mut scanned: usize = 0;
        loop {
            let from = scanned.saturating_sub(1);
            if let Some(at) = self.buffer[from..]
                .windows(CRLF.len())
                .position(|window| window == CRLF)
            {
                let end = from + at;
                if end + CRLF.len() > self.max_reply_bytes {
                    bail!("the reply exceeds {} bytes", self.max_reply_bytes);
                }
                let line = self.buffer.split_to(end);
                self.buffer.advance(CRLF.len());
                return String::from_utf8(line.to_vec())
                    .map_err(|_| anyhow!("the reply is not UTF-8"));
            }
            if self.buffer.len() > self.max_reply_bytes {
                bail!(
                    "the reply exceeds {} bytes without a line end",
                    self.max_reply_bytes
                );
            }
            scanned = self.buffer.len();
            if self
                .stream
                .read_buf(&mut self.buffer)
                .await
                .context("could not read the reply")?
                == 0
            {
                bail!("the connection was closed before an answer came");
            }
        }
    }
}

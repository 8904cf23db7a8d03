//! A bounded pool of connections to the state server that heals itself, with every call under
//! one deadline.
//!
//! * At most `pool_size` connections exist, each carrying one request at a time; a semaphore of
//!   `pool_size` permits is the back-pressure: when the server is slow, callers queue for a
//!   permit instead of opening more connections or piling requests onto one.
//! * Connections are dialled lazily, on the first call that finds no idle one, so the server
//!   starts even while the state server is down.
//! * A connection that failed or timed out mid-call is dropped, never returned: its stream may
//!   still deliver the late reply, which would then be read as the answer to someone else's
//!   request. The next call dials a fresh one. Idle connections are checked before reuse, so a
//!   restarted state server costs no failed call.
//! * The request timeout covers the wait for a permit, the connect and the round trip.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use tokio::sync::Semaphore;

use crate::StateTcpSettings;
use crate::connection::Connection;

#[derive(Debug)]
pub(crate) struct Pool {
    address: String,
    /// One permit per connection that may exist; held for the whole of a call.
    permits: Semaphore,
    /// Connections not in use. Never more than the free permits, because a connection is only
    /// taken or returned by a caller holding a permit.
    idle: Mutex<Vec<Connection>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    max_reply_bytes: usize,
}

impl Pool {
    pub(crate) fn new(settings: &StateTcpSettings) -> Self {
        Self {
            address: settings.address.clone(),
            permits: Semaphore::new(settings.pool_size),
            idle: Mutex::new(Vec::with_capacity(settings.pool_size)),
            connect_timeout: settings.connect_timeout(),
            request_timeout: settings.request_timeout(),
            max_reply_bytes: settings.max_reply_bytes,
        }
    }

    /// The connect timeout, for reachability checks.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Sends one request line and returns the reply line, both without terminator.
    pub(crate) async fn round_trip(&self, line: &str) -> anyhow::Result<String> {
        tokio::time::timeout(self.request_timeout, self.round_trip_untimed(line))
            .await
            .map_err(|_| {
                anyhow!(
                    "state server at {} did not answer within {} ms",
                    self.address,
                    self.request_timeout.as_millis()
                )
            })?
    }

    async fn round_trip_untimed(&self, line: &str) -> anyhow::Result<String> {
        // Dropped on return, and also when the caller's deadline cancels this future.
        let _permit = self
            .permits
            .acquire()
            .await
            .context("the state server connection pool is closed")?;
        let mut connection = match self.take_idle() {
            Some(connection) => connection,
            None => self.dial().await?,
        };
        // On error (or cancellation) `connection` is dropped here, closing the socket.
        let reply = connection
            .round_trip(line)
            .await
            .with_context(|| format!("state server at {}", self.address))?;
        self.put_back(connection);
        Ok(reply)
    }

    /// An idle connection that still looks healthy, discarding those that do not.
    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(mut connection) = idle.pop() {
            if connection.is_reusable() {
                return Some(connection);
            }
            tracing::debug!(address = %self.address, "dropping a closed state server connection");
        }
        None
    }

    fn put_back(&self, connection: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(connection);
    }

    async fn dial(&self) -> anyhow::Result<Connection> {
        tracing::debug!(address = %self.address, "connecting to the state server");
        tokio::time::timeout(
            self.connect_timeout,
            Connection::connect(&self.address, self.max_reply_bytes),
        )
        .await
        .map_err(|_| {
            anyhow!(
                "could not connect to the state server at {} within {} ms",
                self.address,
                self.connect_timeout.as_millis()
            )
        })?
    }
}

//! The listening socket's answer to a failed accept. poem's server drops an accept error
//! and calls accept again at once; when the process is out of file descriptors (EMFILE,
//! ENFILE) or kernel memory (ENOMEM, ENOBUFS) the pending connection stays queued, so the
//! next call fails the same way and the loop spins a whole core, logging nothing.
//!
//! [`BackoffAcceptor`] wraps the real acceptor: such an error is counted
//! (`http_accept_errors_total`), logged at most once a second with the number left
//! unlogged, and followed by a pause of the accept loop, so the sessions that are open
//! keep the CPU and can close and give descriptors back. It never hands an error to
//! poem: after the pause it accepts again. A connection the peer gave up before it was
//! accepted (reset, aborted) is skipped at once, without pause or warning.

use std::io;
use std::time::{Duration, Instant};

use metric_names::http as metric;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};

/// How long the accept loop rests after an error: long enough to cost nothing while the
/// process is out of descriptors, short enough that a freed descriptor is used soon.
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// How often an accept error may be logged.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// An acceptor that rests after an error instead of retrying at once.
pub struct BackoffAcceptor<A> {
    inner: A,
    pause: Duration,
    log: ErrorLog,
}

impl<A: Acceptor> BackoffAcceptor<A> {
    /// Wraps `inner`, resting [`ACCEPT_ERROR_PAUSE`] after each error.
    pub fn new(inner: A) -> Self {
        Self::with_pause(inner, ACCEPT_ERROR_PAUSE)
    }

    fn with_pause(inner: A, pause: Duration) -> Self {
        Self {
            inner,
            pause,
            log: ErrorLog::default(),
        }
    }
}

/// Whether `error` concerns only the one connection being accepted (its peer is gone),
/// not the process: the next pending connection may well be accepted at once.
fn concerns_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

impl<A: Acceptor> Acceptor for BackoffAcceptor<A> {
    type Io = A::Io;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            match self.inner.accept().await {
                Ok(accepted) => return Ok(accepted),
                Err(error) if concerns_one_connection(&error) => {
                    tracing::debug!(%error, "a connection went away before it was accepted");
                }
                Err(error) => {
                    metrics::counter!(metric::ACCEPT_ERRORS).increment(1);
                    if let Some(unlogged) = self.log.due(Instant::now()) {
                        tracing::warn!(
                            %error,
                            unlogged,
                            pause_ms = u64::try_from(self.pause.as_millis()).unwrap_or(u64::MAX),
                            "cannot accept a connection (out of file descriptors or memory?); pausing the accept loop"
                        );
                    }
                    tokio::time::sleep(self.pause).await;
                }
            }
        }
    }
}

/// When the next accept error may be logged, and how many were not.
#[derive(Debug, Default)]
struct ErrorLog {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl ErrorLog {
    /// `Some(n)` when a line is due at `now` (`n` errors went unlogged since the last
    /// one); `None` when this error is only counted.
    fn due(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last_logged
            .is_none_or(|last| now.saturating_duration_since(last) >= LOG_EVERY);
        if due {
            self.last_logged = Some(now);
            Some(std::mem::take(&mut self.unlogged))
        } else {
            self.unlogged += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::DuplexStream;

    use super::*;

    /// An acceptor that answers from a script, then waits for ever.
    struct Scripted {
        answers: VecDeque<io::Result<()>>,
        calls: Arc<AtomicUsize>,
    }

    impl Scripted {
        fn new(answers: Vec<io::Result<()>>) -> (Self, Arc<AtomicUsize>) {
            let calls = Arc::new(AtomicUsize::new(0));
            let scripted = Self {
                answers: answers.into(),
                calls: calls.clone(),
            };
            (scripted, calls)
        }
    }

    impl Acceptor for Scripted {
        type Io = DuplexStream;

        fn local_addr(&self) -> Vec<LocalAddr> {
            Vec::new()
        }

        async fn accept(&mut self) -> io::Result<(DuplexStream, LocalAddr, RemoteAddr, Scheme)> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match self.answers.pop_front() {
                Some(Ok(())) => Ok((
                    tokio::io::duplex(64).0,
                    LocalAddr::default(),
                    RemoteAddr::default(),
                    Scheme::HTTP,
                )),
                Some(Err(error)) => Err(error),
                None => std::future::pending().await,
            }
        }
    }

    fn out_of_descriptors() -> io::Error {
        // EMFILE on Linux and the BSDs.
        io::Error::from_raw_os_error(24)
    }

    #[tokio::test(start_paused = true)]
    async fn each_accept_error_pauses_the_loop_and_then_it_accepts_again() {
        let (scripted, calls) = Scripted::new(vec![
            Err(out_of_descriptors()),
            Err(out_of_descriptors()),
            Err(io::Error::from(io::ErrorKind::OutOfMemory)),
            Ok(()),
        ]);
        let pause = Duration::from_millis(100);
        let mut acceptor = BackoffAcceptor::with_pause(scripted, pause);
        let started = tokio::time::Instant::now();

        let accepted = acceptor.accept().await;

        assert!(accepted.is_ok(), "the error is not handed to the server");
        assert_eq!(calls.load(Ordering::SeqCst), 4, "tried once per pause");
        assert!(
            started.elapsed() >= pause * 3,
            "rested after each of the three errors: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_its_peer_gave_up_is_skipped_without_a_pause() {
        let (scripted, calls) = Scripted::new(vec![
            Err(io::Error::from(io::ErrorKind::ConnectionAborted)),
            Err(io::Error::from(io::ErrorKind::ConnectionReset)),
            Ok(()),
        ]);
        let mut acceptor = BackoffAcceptor::with_pause(scripted, Duration::from_secs(60));
        let started = tokio::time::Instant::now();

        assert!(acceptor.accept().await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[test]
    fn errors_are_logged_once_a_second_with_the_count_of_those_that_were_not() {
        let mut log = ErrorLog::default();
        let start = Instant::now();

        assert_eq!(log.due(start), Some(0));
        assert_eq!(log.due(start + Duration::from_millis(100)), None);
        assert_eq!(log.due(start + Duration::from_millis(900)), None);
        assert_eq!(log.due(start + Duration::from_secs(1)), Some(2));
        assert_eq!(log.due(start + Duration::from_millis(1500)), None);
    }
}

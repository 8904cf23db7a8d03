//! The listening socket. poem's `TcpListener` binds with tokio's, which (like the standard
//! library's) asks the kernel to queue at most 128 connections not yet accepted. Beyond
//! that the kernel drops a client's SYN (or the ACK that completes its handshake), and the
//! client tries again after 1 s, 3 s, 7 s…: a burst of clients (a reconnect storm after a
//! restart or a network blip, a load balancer filling its pool) waits seconds for a server
//! that is not even busy. The server listens with `http.listen_backlog` instead (the kernel
//! caps it at `net.core.somaxconn`).

use std::io;

use tokio::net::{TcpListener, TcpSocket, lookup_host};

/// Binds `address` (`host:port`: the first of its addresses that binds) and listens with
/// a queue of `backlog` connections not yet accepted.
///
/// # Errors
/// The address does not resolve, or no address of it can be bound.
pub async fn listen(address: &str, backlog: u32) -> io::Result<TcpListener> {
    let mut last = None;
    for addr in lookup_host(address).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As tokio's own bind does: a restarted server binds again at once, while the
        // connections of the process before it are still in TIME_WAIT.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr) {
            Ok(()) => return socket.listen(backlog),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{address}` names no address"),
        )
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::TcpStream;

    use super::*;

    /// More than the 128 connections tokio's own bind lets the kernel queue.
    const BURST: usize = 300;

    #[tokio::test]
    async fn a_burst_of_connections_larger_than_the_default_queue_waits_to_be_accepted() {
        let listener = listen("127.0.0.1:0", 1024).await.expect("bound");
        let addr = listener.local_addr().expect("address");

        // Nothing accepts yet, as when the server is busy for a moment: each connection
        // completes its handshake into the queue. Over a full queue the kernel drops the
        // SYN and the connect does not complete while nothing is accepted (the timeout only
        // keeps a failing test from hanging).
        let mut clients = Vec::with_capacity(BURST);
        for n in 0..BURST {
            let connected = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
                .await
                .unwrap_or_else(|_| panic!("connection {n} was not queued"))
                .expect("connected");
            clients.push(connected);
        }
        for _ in 0..BURST {
            listener.accept().await.expect("accepted");
        }
    }

    #[tokio::test]
    async fn an_address_that_cannot_be_bound_is_an_error() {
        let taken = listen("127.0.0.1:0", 16).await.expect("bound");
        let address = taken.local_addr().expect("address").to_string();

        let error = listen(&address, 16).await.expect_err("the port is taken");

        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    }
}

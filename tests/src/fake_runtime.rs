//! The runtime the fake services run on: a thread of their own, so they keep answering while
//! a test's runtime is blocked, as it is while [`crate::TestServer`] starts (it waits for
//! `/readyz`, whose probes call the fakes the server is configured with).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fake-services")
            .enable_all()
            .build()
            .expect("the fake services' runtime")
    })
}

/// A listener on a free loopback port, for [`serve`] to accept on.
pub(crate) fn loopback_listener() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

/// Runs `accept` (given the listener, now on the fakes' runtime) on the fakes' runtime; the
/// tasks it spawns run there too.
pub(crate) fn serve<F, Fut>(listener: std::net::TcpListener, accept: F) -> JoinHandle<()>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        accept(listener).await;
    })
}

//! Composition root: settings, telemetry, the choice of adapters and their wiring.
//! No business rule lives here.

pub mod community;
pub mod dev_tokens;
pub mod metrics;
pub mod probe_cache;
pub mod rate_limits;
pub mod readiness;
pub mod settings;
pub mod startup_checks;
pub mod telemetry;
pub mod wiring;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_stomp::{StompServer, sockjs_endpoint, websocket_endpoint};
use anyhow::Context as _;
use application::usecases::{DeliverEvent, DisconnectSession, ExpireOrphanedSessions};
use application::{Adapters, Chat};
use poem::listener::{Acceptor as _, Listener as _, TcpAcceptor, TcpListener};
use poem::{EndpointExt as _, Route, Server, get, handler};
use tokio_util::sync::CancellationToken;

pub use settings::Settings;

/// The WebSocket STOMP endpoint's path (the seed's iOS client connects here).
pub const WEBSOCKET_PATH: &str = "/my-chat/websocket";

/// Where the SockJS protocol is served (the seed's web client connects here).
pub const SOCKJS_PATH: &str = "/my-chat";

/// The Prometheus scrape endpoint's path.
pub const METRICS_PATH: &str = "/metrics";

/// A wired server bound to its socket, not yet serving.
pub struct App {
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
    routes: poem::endpoint::BoxEndpoint<'static>,
    stomp: Arc<StompServer>,
    in_use: Vec<(&'static str, &'static str)>,
    shutdown: CancellationToken,
    grace: Duration,
}

/// Liveness: the process is up.
#[handler]
fn healthz() -> &'static str {
    "ok"
}

impl App {
    /// Builds the adapters and use cases, starts event delivery, binds the socket.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // The credentials first: a public secret is the worse problem, and reported as such.
        let credentials = startup_checks::check(&settings).inspect_err(|refusal| {
            tracing::error!(problems = ?refusal.problems, "unsafe configuration, refusing to start");
        })?;
        community::check(&settings)?;
        if credentials.development_secret {
            tracing::warn!(
                "using the public development JWT secret (allowed on loopback only); set CHAT_JWT__SECRET for anything but local use"
            );
        }
        if credentials.development_service_token {
            tracing::warn!(
                "using the public development service token (allowed on loopback only); set CHAT_REST__SERVICE_TOKEN for anything but local use"
            );
        }
        let wiring::Wired {
            adapters,
            hub,
            readiness,
            local_files,
            lease_renewal,
            in_use,
        } = wiring::wire(&settings)
            .await
            .context("failed to build the adapters")?;
        if let Some(every) = lease_renewal {
            keep_sessions_alive(&adapters, every).await;
        }
        let chat = Chat::new(&adapters);

        let events = adapters
            .bus
            .subscribe()
            .context("failed to subscribe to the event bus")?;
        let deliver = DeliverEvent::new(hub.clone());
        tokio::spawn(async move { deliver.run(events).await });

        let shutdown = CancellationToken::new();
        let mut rest_settings = settings.rest.clone();
        rest_settings.max_file_bytes = settings.files.max_bytes;
        let rest = adapter_rest::routes(&rest_ports(&chat), &rest_settings);
        let stomp = StompServer::new(
            stomp_ports(&chat),
            hub,
            settings.stomp.clone(),
            shutdown.clone(),
        );
        let mut routes = Route::new()
            .at(WEBSOCKET_PATH, websocket_endpoint(stomp.clone()))
            .nest(SOCKJS_PATH, sockjs_endpoint(stomp.clone()))
            .at("/healthz", get(healthz))
            .at(
                "/readyz",
                readiness::endpoint(Arc::new(readiness), settings.rest.service_token.clone()),
            );
        if let Some(local) = local_files {
            routes = routes.at(
                adapter_files::FILES_PATH,
                get(adapter_files::files_endpoint(
                    adapter_files::LocalDiskFileStore::clone(&local),
                    chat.access.clone(),
                )),
            );
        }
        match metrics::install() {
            Ok(handle) => {
                tokio::spawn(metrics::upkeep(handle.clone()));
                routes = routes.at(METRICS_PATH, get(metrics::endpoint(handle)));
            }
            Err(error) => tracing::warn!(%error, "metrics are not exported"),
        }
        routes = adapter_web::mount(routes, dev_tokens::from_settings(&settings)?);
        let routes = routes
            .nest("/", adapter_web::page_or(rest))
            .with(metrics::HttpMetrics)
            .with(poem::middleware::Tracing)
            .boxed();

        let bind = format!("{}:{}", settings.http.host, settings.http.port);
        let acceptor = TcpListener::bind(bind.clone())
            .into_acceptor()
            .await
            .with_context(|| format!("failed to bind {bind}"))?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no socket address")?;
        Ok(Self {
            acceptor,
            local_addr,
            routes,
            stomp,
            in_use,
            shutdown,
            grace: Duration::from_secs(settings.http.shutdown_grace_seconds),
        })
    }

    /// Which adapter serves each driven port (`("event_bus", "kafka")`, ...).
    pub fn adapters_in_use(&self) -> &[(&'static str, &'static str)] {
        &self.in_use
    }

    /// Whether anything users write (messages, sessions, presence) lives only in this
    /// process's memory, and so is lost on restart.
    pub fn keeps_data_in_memory(&self) -> bool {
        self.in_use.iter().any(|(port, adapter)| {
            matches!(*port, "message_store" | "presence") && *adapter == "memory"
        })
    }

    /// The bound address (the OS-assigned port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `signal` resolves; then every STOMP session is closed (its user
    /// goes offline) and the server stops, within the grace period whatever the
    /// clients do: a session stuck on a client that does not read gives up its
    /// writes at once, and what is still open when the grace period ends is dropped.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            acceptor,
            routes,
            stomp,
            shutdown,
            grace,
            ..
        } = self;
        let (deadline_tx, deadline_rx) = tokio::sync::oneshot::channel();
        let drained = async move {
            signal.await;
            let deadline = tokio::time::Instant::now() + grace;
            let _ = deadline_tx.send(deadline);
            tracing::info!(
                grace_seconds = grace.as_secs(),
                "shutting down: closing sessions"
            );
            shutdown.cancel();
            if tokio::time::timeout_at(deadline, stomp.drained())
                .await
                .is_err()
            {
                tracing::warn!(
                    sessions = stomp.session_count(),
                    "sessions still open at the end of the grace period"
                );
            }
        };
        let grace_over = async move {
            match deadline_rx.await {
                Ok(deadline) => tokio::time::sleep_until(deadline).await,
                // The server stopped before any signal: nothing to bound.
                Err(_) => std::future::pending().await,
            }
        };
        let server = Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            routes,
            drained,
            Some(grace),
        );
        tokio::select! {
            result = server => result.context("HTTP server failed"),
            () = grace_over => {
                tracing::warn!("grace period over: stopping with connections still open");
                Ok(())
            }
        }
    }
}

/// The driving ports the REST API calls.
fn rest_ports(chat: &Chat) -> adapter_rest::ChatPorts {
    adapter_rest::ChatPorts {
        access: chat.access.clone(),
        reading: chat.reading.clone(),
        file_sharing: chat.file_sharing.clone(),
        roster: chat.roster.clone(),
    }
}

/// The driving ports a STOMP session calls.
fn stomp_ports(chat: &Chat) -> adapter_stomp::ChatPorts {
    adapter_stomp::ChatPorts {
        access: chat.access.clone(),
        sessions: chat.sessions.clone(),
        messaging: chat.messaging.clone(),
        navigation: chat.navigation.clone(),
    }
}

/// Renews this instance's presence lease now (before any session opens) and then
/// `every` period, each time closing the sessions of instances that died.
async fn keep_sessions_alive(adapters: &Adapters, every: Duration) {
    let expire = ExpireOrphanedSessions::new(
        adapters.presence.clone(),
        DisconnectSession::new(
            adapters.presence.clone(),
            adapters.state.clone(),
            adapters.directory.clone(),
            adapters.bus.clone(),
            adapters.store.clone(),
            adapters.markers.clone(),
        ),
    );
    if let Err(error) = expire.execute().await {
        tracing::warn!(?error, "presence lease not taken yet; retrying");
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(error) = expire.execute().await {
                tracing::warn!(?error, "presence lease not renewed; retrying");
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(?error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(?error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

//! Composition root: settings, telemetry, the choice of adapters and their wiring.
//! No business rule lives here.

pub mod accept_backoff;
pub mod community;
pub mod descriptor_limit;
pub mod dev_tokens;
pub mod listen;
pub mod metrics;
pub mod migrate;
pub mod probe_cache;
pub mod rate_limits;
pub mod readiness;
pub mod settings;
pub mod startup_checks;
pub mod supervisor;
pub mod telemetry;
pub mod wiring;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_stomp::{StompServer, sockjs_endpoint, websocket_endpoint};
use anyhow::Context as _;
use application::ports::outbound::EventStream;
use application::usecases::{DeliverEvent, DisconnectSession, ExpireOrphanedSessions};
use application::{Adapters, Chat};
use poem::listener::{Acceptor as _, TcpAcceptor};

use crate::accept_backoff::BackoffAcceptor;
use crate::descriptor_limit::ConnectionLimit;
use poem::{EndpointExt as _, Route, Server, get, handler};
use tokio_util::sync::CancellationToken;

pub use settings::Settings;
use supervisor::Supervisor;

#[cfg(test)]
mod supervision_tests;

/// The WebSocket STOMP endpoint's path (the seed's iOS client connects here).
pub const WEBSOCKET_PATH: &str = "/my-chat/websocket";

/// Where the SockJS protocol is served (the seed's web client connects here).
pub const SOCKJS_PATH: &str = "/my-chat";

/// The Prometheus scrape endpoint's path.
pub const METRICS_PATH: &str = "/metrics";

/// The supervised task handing the bus's events to this instance's subscribers.
const EVENT_DELIVERY: &str = "event_delivery";
/// The supervised task renewing this instance's presence lease (with `[redis]` only).
const LEASE_RENEWAL: &str = "lease_renewal";
/// The supervised task folding histogram samples into their buckets.
const METRICS_UPKEEP: &str = "metrics_upkeep";

/// A wired server bound to its socket, not yet serving; its background tasks run.
pub struct App {
    acceptor: BackoffAcceptor<TcpAcceptor>,
    local_addr: SocketAddr,
    /// Shared, so a test can still ask `/readyz` in process after the socket closed.
    routes: Arc<poem::endpoint::BoxEndpoint<'static>>,
    stomp: Arc<StompServer>,
    in_use: Vec<(&'static str, &'static str)>,
    /// Cancelled to close every STOMP session.
    close_sessions: CancellationToken,
    supervisor: Supervisor,
    grace: Duration,
}

/// Liveness: the process is up.
#[handler]
fn healthz() -> &'static str {
    "ok"
}

impl App {
    /// Raises the file-descriptor limit and sets the connection cap from it, builds the
    /// adapters and use cases, starts the background tasks (event delivery first), binds
    /// the socket.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
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
        let connections =
            ConnectionLimit::choose(settings.stomp.max_connections, descriptor_limit::raise());
        connections.log();
        settings.stomp.max_connections = connections.max();
        let wired = wiring::wire(&settings)
            .await
            .context("failed to build the adapters")?;
        let events = wired
            .adapters
            .bus
            .subscribe()
            .context("failed to subscribe to the event bus")?;
        Self::assemble(settings, wired, events).await
    }

    /// Wires the use cases and endpoints over `adapters`, delivering `events` (the bus's
    /// stream) to this instance's subscribers, and binds the socket.
    async fn assemble(
        settings: Settings,
        wired: wiring::Wired,
        events: EventStream,
    ) -> anyhow::Result<Self> {
        let wiring::Wired {
            adapters,
            hub,
            mut readiness,
            local_files,
            lease_renewal,
            in_use,
        } = wired;
        let supervisor = Supervisor::new();
        readiness.watch_tasks(supervisor.health());
        let deliver = DeliverEvent::new(
            hub.clone(),
            adapters.store.clone(),
            Arc::new(metrics::MetricsDeliveryMonitor),
            settings.delivery.limits(settings.stomp.outbound_queue),
        );
        supervisor.spawn(EVENT_DELIVERY, async move { deliver.run(events).await });
        if let Some(every) = lease_renewal {
            keep_sessions_alive(&adapters, every, &supervisor).await;
        }
        let chat = Chat::new(&adapters);

        let close_sessions = CancellationToken::new();
        let mut rest_settings = settings.rest.clone();
        rest_settings.max_file_bytes = settings.files.max_bytes;
        let rest = adapter_rest::routes(&rest_ports(&chat), &rest_settings);
        let stomp = StompServer::new(
            stomp_ports(&chat),
            hub,
            settings.stomp.clone(),
            close_sessions.clone(),
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
                supervisor.spawn(METRICS_UPKEEP, metrics::upkeep(handle.clone()));
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
        let routes = Arc::new(routes);

        let bind = format!("{}:{}", settings.http.host, settings.http.port);
        anyhow::ensure!(
            settings.http.listen_backlog > 0,
            "http.listen_backlog must be at least 1"
        );
        let listener = listen::listen(&bind, settings.http.listen_backlog)
            .await
            .with_context(|| format!("failed to bind {bind}"))?;
        let acceptor = TcpAcceptor::from_tokio(listener).context("listener has no address")?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no socket address")?;
        Ok(Self {
            acceptor: BackoffAcceptor::new(acceptor),
            local_addr,
            routes,
            stomp,
            in_use,
            close_sessions,
            supervisor,
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

    /// Serves until `signal` resolves or a background task stops, then shuts down in order:
    /// stop accepting connections; close every STOMP session (its user goes offline) while
    /// the requests in flight finish; cancel the background tasks (event delivery and lease
    /// renewal run until the sessions are closed) and wait for them. All of it within the
    /// grace period whatever the clients do: a session stuck on a client that does not read
    /// gives up its writes at once, and what is still open when the grace period ends is
    /// dropped.
    ///
    /// # Errors
    /// A background task stopped (the error names it; the process should exit non-zero and be
    /// restarted), or the HTTP server failed.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            acceptor,
            routes,
            stomp,
            close_sessions,
            supervisor,
            grace,
            ..
        } = self;
        let stop_accepting = CancellationToken::new();
        let http = Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            routes,
            stop_accepting.clone().cancelled_owned(),
            Some(grace),
        );
        let mut http = std::pin::pin!(http);
        let mut http_ended = None;
        let stopped_task = tokio::select! {
            result = &mut http => {
                http_ended = Some(result);
                None
            }
            () = signal => None,
            task = supervisor.task_stopped() => Some(task),
        };
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!(
            grace_seconds = grace.as_secs(),
            "shutting down: closing sessions"
        );
        stop_accepting.cancel();
        close_sessions.cancel();
        let requests_finished = async {
            match http_ended {
                Some(result) => Some(result),
                None => tokio::time::timeout_at(deadline, &mut http).await.ok(),
            }
        };
        let (http_ended, drained) = tokio::join!(
            requests_finished,
            tokio::time::timeout_at(deadline, stomp.drained())
        );
        if drained.is_err() {
            tracing::warn!(
                sessions = stomp.session_count(),
                "sessions still open at the end of the grace period"
            );
        }
        if http_ended.is_none() {
            tracing::warn!("grace period over: stopping with connections still open");
        }
        supervisor.shutdown(deadline).await;
        if let Some(task) = stopped_task {
            anyhow::bail!("the background task `{task}` stopped; this instance cannot go on");
        }
        http_ended.unwrap_or(Ok(())).context("HTTP server failed")
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
        reading: chat.reading.clone(),
    }
}

/// Renews this instance's presence lease now (before any session opens) and then, in a
/// supervised task, every `every`, each time closing the sessions of instances that died.
async fn keep_sessions_alive(adapters: &Adapters, every: Duration, supervisor: &Supervisor) {
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
    supervisor.spawn(LEASE_RENEWAL, async move {
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

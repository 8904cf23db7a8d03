//! The wired server and its supervised tasks: when event delivery stops, `/readyz` turns
//! not ready, the stop is logged as an error and counted, and `run_until` shuts down and
//! returns an error (so the process exits non-zero); a signal shuts down cleanly.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt as _;
use metrics_exporter_prometheus::PrometheusBuilder;
use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::Value;
use tokio::sync::oneshot;

use super::*;

/// Log output collected in memory, one JSON object per line.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Collects what this thread logs (a current-thread runtime runs every task on it)
    /// until the guard drops.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .json()
                .with_writer(move || logs.clone())
                .finish(),
        )
    }

    fn errors(&self) -> Vec<Value> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON log line"))
            .filter(|line| line["level"] == "ERROR")
            .collect()
    }
}

/// An embedded-mode server on a free port whose event delivery reads the real bus until the
/// returned sender is used (or dropped): then the stream ends, as a bus's does when it fails.
async fn app_whose_event_stream_ends_on_demand() -> (App, oneshot::Sender<()>) {
    let mut settings = settings::with_overrides(&[]);
    settings.http.port = 0;
    let wired = wiring::wire(&settings).await.expect("adapters");
    let (end, ended) = oneshot::channel::<()>();
    let events = wired
        .adapters
        .bus
        .subscribe()
        .expect("subscribed")
        .take_until(ended)
        .boxed();
    let app = App::assemble(settings, wired, events).await.expect("wired");
    (app, end)
}

/// `/readyz` as the app serves it, with the details (the service token shows them).
async fn readyz(
    client: &TestClient<Arc<poem::endpoint::BoxEndpoint<'static>>>,
) -> (StatusCode, Value) {
    let response = client
        .get("/readyz")
        .header("X-Service-Token", settings::DEVELOPMENT_SERVICE_TOKEN)
        .send()
        .await;
    let status = response.0.status();
    let body = response.0.into_body().into_string().await.expect("a body");
    (status, serde_json::from_str(&body).expect("JSON"))
}

#[tokio::test]
async fn when_event_delivery_stops_the_instance_is_not_ready_and_the_server_exits_with_an_error() {
    let logs = CapturedLogs::default();
    let _logging = logs.install();
    let recorder = PrometheusBuilder::new().build_recorder();
    let scrape = recorder.handle();
    let _metrics = ::metrics::set_default_local_recorder(&recorder);
    let (app, end_event_stream) = app_whose_event_stream_ends_on_demand().await;
    // The app's own endpoint, still answering in process after the socket closed.
    let client = TestClient::new(app.routes.clone());
    let serving = tokio::spawn(app.run_until(std::future::pending()));
    let (status, before) = readyz(&client).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["dependencies"]["tasks"], "running");

    end_event_stream.send(()).expect("delivery still reads");
    // Generous: only there so that a server that keeps running fails the test instead of
    // hanging it.
    let served = tokio::time::timeout(Duration::from_secs(60), serving)
        .await
        .expect("the server stopped on its own")
        .expect("run_until did not panic");

    let error = served.expect_err("the server stops with an error");
    assert!(error.to_string().contains("event_delivery"), "{error:#}");
    // Past the probe cache's freshness, so the next call probes again.
    tokio::time::pause();
    tokio::time::advance(readiness::FRESH_FOR).await;
    let (status, after) = readyz(&client).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{after}");
    assert_eq!(after["status"], "not_ready");
    assert_eq!(after["dependencies"]["tasks"], "stopped: event_delivery");
    let errors = logs.errors();
    assert!(
        errors
            .iter()
            .any(|line| line["fields"]["task"] == "event_delivery"),
        "{errors:?}"
    );
    let scraped = scrape.render();
    assert!(
        scraped.contains(r#"chat_task_stopped_total{task="event_delivery"} 1"#),
        "{scraped}"
    );
}

#[tokio::test]
async fn a_signal_stops_the_background_tasks_without_reporting_a_failure() {
    let logs = CapturedLogs::default();
    let _logging = logs.install();
    let (app, _end_event_stream) = app_whose_event_stream_ends_on_demand().await;
    let health = app.supervisor.health();

    let served = app.run_until(async {}).await;

    assert!(served.is_ok(), "{served:?}");
    assert!(health.stopped().is_empty());
    assert_eq!(logs.errors(), Vec::<Value>::new());
}

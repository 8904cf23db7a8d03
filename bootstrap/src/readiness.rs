//! `/readyz`: whether every configured dependency is reachable. In-process
//! adapters are always ready; real services are probed on each request.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse as _, Request, Response};
use serde_json::{Map, Value, json};

use crate::community_directory::Directory;
use crate::state_server::StateServer;

/// The dependencies `/readyz` reports on.
pub struct Readiness {
    pub(crate) state: Arc<StateServer>,
    pub(crate) directory: Arc<Directory>,
}

fn entry(checked: Option<anyhow::Result<()>>) -> (bool, Value) {
    match checked {
        None => (true, json!("in-process")),
        Some(Ok(())) => (true, json!("reachable")),
        Some(Err(error)) => {
            tracing::warn!(error = %format!("{error:#}"), "dependency not ready");
            (false, json!(format!("unreachable: {error:#}")))
        }
    }
}

impl Readiness {
    /// Probes every dependency; `true` when all are ready.
    pub async fn report(&self) -> (bool, Value) {
        let (state, directory) = tokio::join!(self.state.readiness(), self.directory.readiness());
        let mut dependencies = Map::new();
        let mut ready = true;
        for (name, checked) in [("state_server", state), ("community_service", directory)] {
            let (ok, value) = entry(checked);
            ready &= ok;
            dependencies.insert(name.to_owned(), value);
        }
        for in_process in [
            "message_store",
            "event_bus",
            "presence",
            "read_markers",
            "rate_limiter",
        ] {
            dependencies.insert(in_process.to_owned(), json!("in-process"));
        }
        let body = json!({
            "status": if ready { "ready" } else { "not_ready" },
            "dependencies": dependencies,
        });
        (ready, body)
    }
}

/// The `/readyz` endpoint: 200 when ready, 503 otherwise, with the details.
pub fn endpoint(readiness: Arc<Readiness>) -> impl Endpoint<Output = Response> {
    poem::endpoint::make(move |_: Request| {
        let readiness = readiness.clone();
        async move {
            let (ready, body) = readiness.report().await;
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Ok::<_, poem::Error>(poem::web::Json(body).with_status(status).into_response())
        }
    })
}

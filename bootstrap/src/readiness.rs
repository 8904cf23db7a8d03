//! `/readyz`: whether every configured dependency is reachable. In-process
//! adapters are always ready; real services are probed on each request, and each
//! probe sets the gauge `chat_dependency_up{dependency}` (1 reachable, 0 not).
//!
//! Only the services chat cannot work without (event bus, message store, presence)
//! make the instance `not_ready` (503): a load balancer should stop sending it users.
//! The lobby's services (state server, community service, auth service) only make it
//! `degraded` (200): users still connect and chat there, served from caches and
//! fallbacks, so taking every instance out of rotation would be worse.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse as _, Request, Response};
use serde_json::{Map, Value, json};

use crate::community_directory::Membership;
use crate::event_bus::Bus;
use crate::file_store::Files;
use crate::metrics::DEPENDENCY_UP;
use crate::ports::Services;
use crate::state_server::StateServer;
use crate::user_directory::Users;

/// The dependencies `/readyz` reports on.
pub struct Readiness {
    pub(crate) state: Arc<StateServer>,
    pub(crate) directory: Arc<Membership>,
    pub(crate) users: Arc<Users>,
    pub(crate) bus: Arc<Bus>,
    pub(crate) files: Arc<Files>,
    pub(crate) services: Services,
}

fn entry(name: &'static str, checked: Option<anyhow::Result<()>>) -> (bool, Value) {
    if let Some(result) = &checked {
        let up = if result.is_ok() { 1.0 } else { 0.0 };
        metrics::gauge!(DEPENDENCY_UP, "dependency" => name).set(up);
    }
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
    /// Probes every dependency; `true` when every essential one is reachable.
    pub async fn report(&self) -> (bool, Value) {
        let mongo = async {
            match &self.services.mongo {
                Some(mongo) => Some(mongo.ping().await),
                None => None,
            }
        };
        let redis = async {
            match &self.services.redis {
                Some(redis) => Some(redis.ping().await),
                None => None,
            }
        };
        let (state, directory, users, bus, mongo, redis, files) = tokio::join!(
            self.state.readiness(),
            self.directory.source().readiness(),
            self.users.readiness(),
            self.bus.readiness(),
            mongo,
            redis,
            self.files.readiness(),
        );
        let mut dependencies = Map::new();
        let mut ready = true;
        let mut degraded = false;
        for (name, checked, essential) in [
            ("state_server", state, false),
            ("community_service", directory, false),
            ("auth_service", users, false),
            ("event_bus", bus, true),
            ("message_store", mongo, true),
            ("presence", redis, true),
            // Chat goes on without file storage; only uploads fail.
            ("file_store", files, false),
        ] {
            let (ok, value) = entry(name, checked);
            if essential {
                ready &= ok;
            } else {
                degraded |= !ok;
            }
            dependencies.insert(name.to_owned(), value);
        }
        dependencies.insert(
            "read_markers".to_owned(),
            dependencies["message_store"].clone(),
        );
        // The shared limiter lives in Redis (and falls back to a per-instance one without it).
        dependencies.insert("rate_limiter".to_owned(), dependencies["presence"].clone());
        let body = json!({
            "status": match (ready, degraded) {
                (false, _) => "not_ready",
                (true, true) => "degraded",
                (true, false) => "ready",
            },
            "dependencies": dependencies,
        });
        (ready, body)
    }
}

/// The `/readyz` endpoint: 200 when ready or degraded, 503 when an essential service is
/// unreachable, with the details.
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

//! `/readyz`: whether every configured dependency is reachable. In-process
//! adapters are always ready; real services are probed at most once per
//! [`FRESH_FOR`] (callers in between get the last round's answer), and each probe sets
//! the gauge `chat_dependency_up{dependency}` (1 reachable, 0 not).
//!
//! Everyone gets the status; the details (each dependency, with the error that names its
//! host) only a caller on this machine (loopback, not through a proxy) or one presenting
//! the service token: they map the deployment for an attacker.
//!
//! Only the services chat cannot work without (event bus, message store, presence), and
//! the server's own background tasks (`tasks`: see [`crate::supervisor`]), make the
//! instance `not_ready` (503): a load balancer should stop sending it users.
//! The lobby's services (state server, community service, auth service) only make it
//! `degraded` (200): users still connect and chat there, served from caches and
//! fallbacks, so taking every instance out of rotation would be worse.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, join_all};
use metric_names::Dependency;
use poem::http::{HeaderMap, StatusCode};
use poem::{Endpoint, IntoResponse as _, Request, Response};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;

use crate::probe_cache::ProbeCache;
use crate::supervisor::TaskHealth;

/// How long one probe round answers `/readyz`.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The header carrying the service token (as on the service endpoints).
const SERVICE_TOKEN_HEADER: &str = "x-service-token";

/// Headers a reverse proxy adds: behind one, a loopback peer is not a local caller.
const PROXY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// One probe round: whether the instance is ready, and the detailed report.
pub trait Probe: Send + Sync + 'static {
    /// Probes every dependency.
    fn probe(&self) -> impl Future<Output = (bool, Value)> + Send;
}

/// Whether an unreachable dependency takes the instance out of rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    /// Chat cannot work without it: `not_ready` (503).
    Essential,
    /// Chat goes on from caches and fallbacks: `degraded` (200).
    Degradable,
}

/// Asks one real service whether it answers.
pub type ProbeFn = Box<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// The dependencies one probe answers for (one server may hold several: MongoDB the
/// messages and the read markers); no probe when they live in this process.
struct Check {
    dependencies: &'static [Dependency],
    importance: Importance,
    probe: Option<ProbeFn>,
}

/// The dependencies `/readyz` reports on, each registered where its adapter is chosen.
#[derive(Default)]
pub struct Readiness {
    checks: Vec<Check>,
    /// The supervised background tasks: essential, reported as `tasks`.
    tasks: TaskHealth,
}

impl Readiness {
    /// Reports the supervised tasks too: a stopped one makes the instance `not_ready`.
    pub fn watch_tasks(&mut self, tasks: TaskHealth) {
        self.tasks = tasks;
    }

    /// Dependencies served in this process: always ready.
    pub fn in_process(&mut self, dependencies: &'static [Dependency], importance: Importance) {
        self.checks.push(Check {
            dependencies,
            importance,
            probe: None,
        });
    }

    /// A real service holding `dependencies`, probed once per round by `probe` (which must
    /// bound its own wait).
    pub fn service<F, Fut>(
        &mut self,
        dependencies: &'static [Dependency],
        importance: Importance,
        probe: F,
    ) where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.checks.push(Check {
            dependencies,
            importance,
            probe: Some(Box::new(move || Box::pin(probe()))),
        });
    }

    /// Probes every dependency at once; `true` when every essential one is reachable.
    pub async fn report(&self) -> (bool, Value) {
        let checked = join_all(self.checks.iter().map(|check| async {
            match &check.probe {
                Some(probe) => Some(probe().await),
                None => None,
            }
        }))
        .await;
        let mut dependencies = Map::new();
        let mut ready = true;
        let mut degraded = false;
        for (check, checked) in self.checks.iter().zip(checked) {
            if let Some(Err(error)) = &checked {
                tracing::warn!(error = %format!("{error:#}"), "dependency not ready");
            }
            for &dependency in check.dependencies {
                let (ok, value) = entry(dependency, checked.as_ref());
                match check.importance {
                    Importance::Essential => ready &= ok,
                    Importance::Degradable => degraded |= !ok,
                }
                dependencies.insert(dependency.name().to_owned(), value);
            }
        }
        let stopped = self.tasks.stopped();
        ready &= stopped.is_empty();
        let tasks = if stopped.is_empty() {
            "running".to_owned()
        } else {
            format!("stopped: {}", stopped.join(", "))
        };
        dependencies.insert("tasks".to_owned(), json!(tasks));
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

fn entry(dependency: Dependency, checked: Option<&anyhow::Result<()>>) -> (bool, Value) {
    if let Some(result) = &checked {
        let up = if result.is_ok() { 1.0 } else { 0.0 };
        metric_names::dependency_up(dependency).set(up);
    }
    match checked {
        None => (true, json!("in-process")),
        Some(Ok(())) => (true, json!("reachable")),
        Some(Err(error)) => (false, json!(format!("unreachable: {error:#}"))),
    }
}

impl Probe for Readiness {
    fn probe(&self) -> impl Future<Output = (bool, Value)> + Send {
        self.report()
    }
}

/// Whether a caller may see the details: from this machine and not through a proxy, or
/// presenting the service token.
fn may_see_details(peer: Option<SocketAddr>, headers: &HeaderMap, service_token: &str) -> bool {
    let proxied = PROXY_HEADERS.iter().any(|name| headers.contains_key(*name));
    let local = !proxied && peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback());
    let authenticated = !service_token.is_empty()
        && headers
            .get(SERVICE_TOKEN_HEADER)
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(service_token.as_bytes())));
    local || authenticated
}

/// The `/readyz` endpoint: 200 when ready or degraded, 503 when an essential service is
/// unreachable; the details for a local or authenticated caller, else only the status.
pub fn endpoint(
    probe: Arc<impl Probe>,
    service_token: SecretString,
) -> impl Endpoint<Output = Response> {
    let cache = Arc::new(ProbeCache::new(FRESH_FOR));
    poem::endpoint::make(move |request: Request| {
        let probe = probe.clone();
        let cache = cache.clone();
        let detailed = may_see_details(
            request.remote_addr().as_socket_addr().copied(),
            request.headers(),
            service_token.expose_secret(),
        );
        async move {
            let (ready, body) = cache.get_or_probe(|| probe.probe()).await;
            let body = if detailed {
                body
            } else {
                json!({ "status": body["status"] })
            };
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Ok::<_, poem::Error>(poem::web::Json(body).with_status(status).into_response())
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use poem::http::HeaderValue;
    use poem::test::TestClient;

    use super::*;

    const TOKEN: &str = "the-service-token-of-this-test-instance";

    /// Not ready, with details naming a host; counts its rounds.
    #[derive(Default)]
    struct FakeProbe(AtomicUsize);

    impl Probe for FakeProbe {
        async fn probe(&self) -> (bool, Value) {
            self.0.fetch_add(1, Ordering::SeqCst);
            (
                false,
                json!({
                    "status": "not_ready",
                    "dependencies": {"presence": "unreachable: redis.internal:6379 refused"},
                }),
            )
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn peer(address: &str) -> SocketAddr {
        address.parse().expect("socket address")
    }

    #[tokio::test]
    async fn a_remote_caller_without_the_service_token_gets_only_the_status() {
        // The test client's peer is not a socket address: not loopback.
        let client = TestClient::new(endpoint(Arc::new(FakeProbe::default()), TOKEN.into()));

        let response = client.get("/readyz").send().await;

        response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        response.assert_json(json!({"status": "not_ready"})).await;
    }

    #[tokio::test]
    async fn a_caller_presenting_the_service_token_gets_the_details() {
        let client = TestClient::new(endpoint(Arc::new(FakeProbe::default()), TOKEN.into()));

        let response = client
            .get("/readyz")
            .header("X-Service-Token", TOKEN)
            .send()
            .await;

        response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        let body = response.json().await;
        body.value()
            .object()
            .get("dependencies")
            .object()
            .get("presence")
            .assert_string("unreachable: redis.internal:6379 refused");
    }

    #[tokio::test]
    async fn callers_within_a_second_share_one_probe_round() {
        let probe = Arc::new(FakeProbe::default());
        let client = TestClient::new(endpoint(probe.clone(), TOKEN.into()));

        for _ in 0..5 {
            client
                .get("/readyz")
                .send()
                .await
                .assert_status(StatusCode::SERVICE_UNAVAILABLE);
        }

        assert_eq!(probe.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn only_local_unproxied_or_authenticated_callers_see_details() {
        let none = headers(&[]);
        assert!(may_see_details(Some(peer("127.0.0.1:5000")), &none, TOKEN));
        assert!(may_see_details(Some(peer("[::1]:5000")), &none, TOKEN));
        assert!(!may_see_details(Some(peer("10.0.0.7:5000")), &none, TOKEN));
        assert!(!may_see_details(None, &none, TOKEN));
        assert!(
            !may_see_details(
                Some(peer("127.0.0.1:5000")),
                &headers(&[("x-forwarded-for", "203.0.113.9")]),
                TOKEN
            ),
            "a proxy on this machine forwards remote callers"
        );
        assert!(may_see_details(
            Some(peer("10.0.0.7:5000")),
            &headers(&[("x-service-token", TOKEN)]),
            TOKEN
        ));
        assert!(!may_see_details(
            Some(peer("10.0.0.7:5000")),
            &headers(&[("x-service-token", "a-guess")]),
            TOKEN
        ));
        assert!(!may_see_details(
            Some(peer("10.0.0.7:5000")),
            &headers(&[("x-service-token", "")]),
            ""
        ));
    }
}

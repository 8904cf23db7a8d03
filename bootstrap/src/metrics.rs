//! Prometheus metrics: the one place a `metrics` recorder is installed, the
//! `/metrics` scrape endpoint, and the middleware that measures HTTP requests.
//!
//! Adapters record through the `metrics` facade, which does nothing until [`install`]
//! has run; every name, label key and description is in the `metric_names` crate. Every
//! label value is drawn from a bounded set: HTTP requests are labelled by route template,
//! never by their raw path.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use application::ports::outbound::{DeliveryMonitor, OrderReport};
use metric_names::http::{METHOD, REQUEST_DURATION, REQUESTS, ROUTE, STATUS};
use metrics::{Label, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::StatusCode;
use poem::web::WithContentType;
use poem::{Endpoint, EndpointExt as _, IntoResponse, Middleware, PathPattern, Request, Response};

/// Upper bounds of the [`REQUEST_DURATION`] buckets, in seconds (1 ms to 10 s).
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_PERIOD: Duration = Duration::from_secs(5);

/// The Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label value standing for anything outside a known, bounded set.
const OTHER: &str = "other";

/// Where shared files are downloaded (`/files/{key}`).
const FILES: &str = "files";

/// First path segments this server serves; any other path is labelled [`OTHER`].
const KNOWN_PREFIXES: [&str; 8] = [
    "api",
    "chat-server",
    "docs",
    "healthz",
    "metrics",
    "my-chat",
    "openapi.json",
    "readyz",
];

/// Methods labelled as they are; any other (extension methods are free-form) is [`OTHER`].
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

/// The recorder's configuration; [`REQUEST_DURATION`] gets buckets, so it is
/// rendered as a Prometheus histogram rather than a summary.
fn builder() -> anyhow::Result<PrometheusBuilder> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), &LATENCY_BUCKETS)
        .context("invalid histogram buckets")
}

/// Installs the Prometheus recorder as the process-wide `metrics` recorder and
/// describes every metric the server records.
///
/// Fails, changing nothing, when a recorder is already installed in this
/// process. The caller must keep histograms drained, by scraping or with [`upkeep`].
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = builder()?.install_recorder().context(
        "cannot install the Prometheus recorder: a metrics recorder is already installed in this process",
    )?;
    metric_names::describe_all();
    Ok(handle)
}

/// Folds recorded histogram samples into their buckets every few seconds, so
/// memory stays flat even when nobody scrapes. Runs until its task is dropped.
pub async fn upkeep(handle: PrometheusHandle) {
    let mut every = tokio::time::interval(UPKEEP_PERIOD);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}

/// The scrape endpoint: every metric in the Prometheus text format.
pub fn endpoint(handle: PrometheusHandle) -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(move |_| -> WithContentType<String> {
        handle.render().with_content_type(CONTENT_TYPE)
    })
    .map_to_response()
}

/// Middleware recording [`REQUESTS`] and [`REQUEST_DURATION`] for every
/// request. Put it directly around the `Route`, so it sees the matched template.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpMetrics;

impl<E: Endpoint> Middleware<E> for HttpMetrics {
    type Output = HttpMetricsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        HttpMetricsEndpoint { inner }
    }
}

/// The endpoint [`HttpMetrics`] wraps around another.
#[derive(Debug)]
pub struct HttpMetricsEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for HttpMetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let method = method_label(request.method().as_str());
        let uri = request.uri().clone();
        let started = Instant::now();
        let result = self
            .inner
            .call(request)
            .await
            .map(IntoResponse::into_response);
        let elapsed = started.elapsed().as_secs_f64();

        let (status, pattern) = match &result {
            Ok(response) => (response.status(), response.data::<PathPattern>()),
            Err(error) => (error.status(), error.data::<PathPattern>()),
        };
        let labels = vec![
            Label::new(METHOD, method),
            Label::new(ROUTE, route_label(pattern, status, uri.path())),
            Label::new(STATUS, status.as_str().to_owned()),
        ];
        metrics::counter!(REQUESTS, labels.clone()).increment(1);
        metrics::histogram!(REQUEST_DURATION, labels).record(elapsed);
        result
    }
}

fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or(OTHER)
}

/// The `route` label: the route template poem matched, so the route table
/// bounds it. A catch-all nested at the root (template `""`) names no route, nor
/// does a 404 without a template: both are [`OTHER`]. A response that carries no
/// template at all falls back to the normalised path.
fn route_label(pattern: Option<&PathPattern>, status: StatusCode, path: &str) -> SharedString {
    match pattern {
        Some(PathPattern(template)) if !matches!(&**template, "" | "/") => {
            SharedString::from(template.clone())
        }
        Some(_) => SharedString::const_str(OTHER),
        None if status == StatusCode::NOT_FOUND => SharedString::const_str(OTHER),
        None => SharedString::from(normalise_route(path)),
    }
}

/// A path with its ids folded into `:id`; any path outside [`KNOWN_PREFIXES`]
/// is [`OTHER`].
fn normalise_route(path: &str) -> String {
    let mut segments = path.split('/').filter(|segment| !segment.is_empty());
    let Some(first) = segments.next() else {
        return "/".to_owned();
    };
    if first == FILES {
        // File keys are random names with an extension, never a template segment: one
        // label for every download keeps the label set bounded.
        return "/files/:key".to_owned();
    }
    if !KNOWN_PREFIXES.contains(&first) {
        return OTHER.to_owned();
    }
    let mut route = format!("/{first}");
    for segment in segments {
        route.push('/');
        route.push_str(if looks_like_an_id(segment) {
            ":id"
        } else {
            segment
        });
    }
    route
}

/// A number, or at least 16 hex digits (hyphens allowed, as in a UUID).
fn looks_like_an_id(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let number = !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit);
    let hex_digits = bytes.iter().filter(|b| b.is_ascii_hexdigit()).count();
    let hex = hex_digits >= 16 && bytes.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-');
    number || hex
}

#[cfg(test)]
mod tests {
    use poem::endpoint::make_sync;
    use poem::test::TestClient;
    use poem::{Route, get};

    use super::*;

    /// Runs `requests` with a fresh Prometheus recorder installed for this
    /// thread only, and returns what a scrape would show.
    fn rendered_after<F: Future<Output = ()>>(requests: F) -> String {
        let recorder = builder().unwrap().build_recorder();
        let handle = recorder.handle();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        metrics::with_local_recorder(&recorder, || runtime.block_on(requests));
        handle.render()
    }

    #[test]
    fn numeric_path_segments_are_folded_into_a_placeholder() {
        assert_eq!(
            normalise_route("/api/rooms/42/messages/7"),
            "/api/rooms/:id/messages/:id"
        );
    }

    #[test]
    fn long_hex_and_uuid_segments_are_folded_into_a_placeholder() {
        assert_eq!(
            normalise_route("/api/sessions/0123456789abcdef"),
            "/api/sessions/:id"
        );
        assert_eq!(
            normalise_route("/api/files/550e8400-e29b-41d4-a716-446655440000"),
            "/api/files/:id"
        );
    }

    #[test]
    fn short_hex_looking_words_are_kept() {
        assert_eq!(normalise_route("/api/feed/cafe"), "/api/feed/cafe");
    }

    #[test]
    fn paths_outside_the_known_prefixes_collapse_into_other() {
        assert_eq!(normalise_route("/wp-login.php"), "other");
        assert_eq!(normalise_route("/.env"), "other");
        assert_eq!(normalise_route("/apix/rooms/1"), "other");
    }

    #[test]
    fn every_file_download_is_one_route() {
        assert_eq!(
            normalise_route("/files/0123456789abcdef0123456789abcdef-thumb.png"),
            "/files/:key"
        );
        assert_eq!(normalise_route("/files/a.svg"), "/files/:key");
    }

    #[test]
    fn empty_segments_and_trailing_slashes_do_not_make_new_routes() {
        assert_eq!(normalise_route("/healthz/"), "/healthz");
        assert_eq!(
            normalise_route("//my-chat//websocket"),
            "/my-chat/websocket"
        );
        assert_eq!(normalise_route(""), "/");
    }

    #[test]
    fn unknown_methods_are_labelled_other() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "other");
    }

    #[test]
    fn requests_are_counted_and_timed_by_route_template_not_by_raw_path() {
        let app = Route::new()
            .at("/api/rooms/:room", get(make_sync(|_| "room")))
            .nest("/docs", make_sync(|_| StatusCode::UNAUTHORIZED))
            .with(HttpMetrics);
        let client = TestClient::new(app);

        let rendered = rendered_after(async {
            client
                .get("/api/rooms/1")
                .send()
                .await
                .assert_status_is_ok();
            client
                .get("/api/rooms/2")
                .send()
                .await
                .assert_status_is_ok();
            client
                .post("/api/rooms/3")
                .send()
                .await
                .assert_status(StatusCode::METHOD_NOT_ALLOWED);
            client
                .get("/wp-login.php")
                .send()
                .await
                .assert_status(StatusCode::NOT_FOUND);
            client
                .get("/docs/secret-42")
                .send()
                .await
                .assert_status(StatusCode::UNAUTHORIZED);
        });

        for line in [
            r#"http_requests_total{method="GET",route="/api/rooms/:room",status="200"} 2"#,
            r#"http_requests_total{method="POST",route="/api/rooms/:room",status="405"} 1"#,
            r#"http_requests_total{method="GET",route="other",status="404"} 1"#,
            r#"http_requests_total{method="GET",route="/docs",status="401"} 1"#,
            r#"http_request_duration_seconds_bucket{method="GET",route="/api/rooms/:room",status="200",le="10"} 2"#,
            r#"http_request_duration_seconds_count{method="GET",route="/api/rooms/:room",status="200"} 2"#,
        ] {
            assert!(
                rendered.lines().any(|l| l == line),
                "{line} missing in:\n{rendered}"
            );
        }
        assert!(!rendered.contains("/api/rooms/1"), "{rendered}");
        assert!(!rendered.contains("wp-login"), "{rendered}");
    }

    #[test]
    fn a_catch_all_at_the_root_names_no_route() {
        let app = Route::new()
            .at("/healthz", get(make_sync(|_| "ok")))
            .nest("/", make_sync(|_| StatusCode::UNAUTHORIZED))
            .with(HttpMetrics);
        let client = TestClient::new(app);

        let rendered = rendered_after(async {
            for path in ["/api/v1/direct/abc/messages", "/anything/else"] {
                client
                    .get(path)
                    .send()
                    .await
                    .assert_status(StatusCode::UNAUTHORIZED);
            }
        });

        let line = r#"http_requests_total{method="GET",route="other",status="401"} 2"#;
        assert!(rendered.lines().any(|l| l == line), "{rendered}");
    }

    #[test]
    fn without_a_route_template_the_normalised_path_is_the_label() {
        let client = TestClient::new(make_sync(|_| "ok").with(HttpMetrics));

        let rendered = rendered_after(async {
            client
                .get("/api/rooms/42/messages")
                .send()
                .await
                .assert_status_is_ok();
        });

        let line =
            r#"http_requests_total{method="GET",route="/api/rooms/:id/messages",status="200"} 1"#;
        assert!(rendered.lines().any(|l| l == line), "{rendered}");
    }

    #[tokio::test]
    async fn the_scrape_endpoint_serves_the_prometheus_text_format() {
        let recorder = builder().unwrap().build_recorder();
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!(metric_names::stomp::FRAMES_RECEIVED, metric_names::stomp::COMMAND => "SEND")
                .increment(3);
        });
        let client = TestClient::new(endpoint(recorder.handle()));

        let response = client.get("/metrics").send().await;

        response.assert_status_is_ok();
        response.assert_content_type(CONTENT_TYPE);
        let body = response.0.into_body().into_string().await.unwrap();
        assert!(
            body.contains(r#"stomp_frames_received_total{command="SEND"} 3"#),
            "{body}"
        );
    }
}

/// Reports delivery's room order as the `chat_delivery_*` metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsDeliveryMonitor;

impl DeliveryMonitor for MetricsDeliveryMonitor {
    fn report(&self, report: OrderReport) {
        use metric_names::delivery::{FILLED, HELD, LATE, SKIPPED};
        for (counter, count) in [
            (SKIPPED, report.skipped),
            (LATE, report.late),
            (FILLED, report.filled),
        ] {
            if count > 0 {
                metrics::counter!(counter).increment(count);
            }
        }
        #[expect(clippy::cast_precision_loss, reason = "a gauge of held events")]
        metrics::gauge!(HELD).set(report.held as f64);
    }
}

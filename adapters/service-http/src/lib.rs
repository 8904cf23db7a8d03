//! One of the app's services (community service, auth service) spoken to over HTTP: shared by
//! the HTTP adapters so each keeps only its endpoints and the parsing of their bodies.
//!
//! Every attempt has a timeout; connect errors, timeouts and 5xx are retried a few times,
//! waiting a little longer each time (the calls are reads, so a retry is safe); a reply body
//! is read only up to a limit, so a broken service cannot make us buffer without end.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};

/// How to reach a service.
#[derive(Debug, Clone)]
pub struct ServiceSettings<'a> {
    /// The service's name in errors and logs (`community service`).
    pub name: &'static str,
    /// Base URL; request paths are appended to it.
    pub base_url: &'a str,
    /// Limit on each attempt, connecting included.
    pub timeout: Duration,
    /// Attempts after the first one, for the failures a second try can fix.
    pub retries: u32,
    /// Wait before the first retry; the n-th retry waits n times as long.
    pub retry_backoff: Duration,
    /// Largest reply body read.
    pub max_body_bytes: usize,
}

/// What a successful exchange gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A 2xx reply's body.
    Body(Vec<u8>),
    /// 404: the service does not know what was asked for.
    NotFound,
}

/// A service spoken to over HTTP, with one connection pool.
#[derive(Debug, Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    name: &'static str,
    base_url: String,
    retries: u32,
    backoff: Duration,
    max_body_bytes: usize,
}

/// A failed attempt, and whether another attempt could succeed.
enum Failure {
    /// Connect errors, timeouts and 5xx: the service may answer next time.
    Retryable(anyhow::Error),
    /// 4xx, oversized bodies and other errors: asking again would get the same answer.
    Final(anyhow::Error),
}

impl Failure {
    fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_connect() || error.is_timeout() {
            Self::Retryable(error.into())
        } else {
            Self::Final(error.into())
        }
    }
}

/// Refuses a base URL that could only fail at the first call; `key` names the setting.
pub fn validate_base_url(key: &str, base_url: &str) -> anyhow::Result<()> {
    let url = Url::parse(base_url)
        .map_err(|error| anyhow!("{key} `{base_url}` is not a URL: {error}"))?;
    // reqwest is built without a TLS backend in this workspace (default features off), so an
    // https URL would only fail at the first call; say so at start-up instead.
    anyhow::ensure!(
        url.scheme() == "http",
        "{key} `{base_url}` must be http:// (this build has no TLS support)"
    );
    Ok(())
}

impl ServiceClient {
    /// One HTTP client (one connection pool) with the timeout on every attempt.
    pub fn new(settings: &ServiceSettings<'_>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .with_context(|| format!("building the {} HTTP client", settings.name))?;
        Ok(Self {
            http,
            name: settings.name,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            retries: settings.retries,
            backoff: settings.retry_backoff,
            max_body_bytes: settings.max_body_bytes,
        })
    }

    /// Whether the service answers HTTP at its base URL now (any status counts: the seed's
    /// services have no health endpoint).
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.http
            .get(&self.base_url)
            .send()
            .await
            .map(drop)
            .with_context(|| format!("{} at {} is unreachable", self.name, self.base_url))
    }

    /// `GET {base_url}{path}`, retried.
    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.call(Method::GET, path, None).await
    }

    /// `POST {base_url}{path}` with a JSON body, retried (for the services' read endpoints
    /// that take their question as a body).
    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> anyhow::Result<Reply> {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Reply> {
        let url = format!("{}{path}", self.base_url);
        let mut retried = 0;
        loop {
            match self.attempt(method.clone(), &url, body.clone()).await {
                Ok(reply) => return Ok(reply),
                Err(Failure::Retryable(error)) if retried < self.retries => {
                    retried += 1;
                    let error = format!("{error:#}");
                    tracing::debug!(%url, retried, error, service = self.name, "retrying");
                    tokio::time::sleep(self.backoff * retried).await;
                }
                Err(Failure::Retryable(error) | Failure::Final(error)) => {
                    return Err(error.context(format!("{method} {url}")));
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, Failure> {
        let mut request = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let mut response = request.send().await.map_err(Failure::from_reqwest)?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(Reply::NotFound);
        }
        if status.is_server_error() {
            return Err(Failure::Retryable(anyhow!(
                "the {} answered {status}",
                self.name
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Failure::from_reqwest)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(Failure::Final(anyhow!(
                    "the {}'s reply is larger than {} bytes",
                    self.name,
                    self.max_body_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(Failure::Final(anyhow!(
                "the {} answered {status}: {}",
                self.name,
                snippet(&body)
            )));
        }
        Ok(Reply::Body(body))
    }
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

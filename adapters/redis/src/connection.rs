//! [`RedisConnection`]: one multiplexed, self-reconnecting fred client shared by the presence
//! store and the member caches, with a time limit on every call.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use fred::clients::WithOptions;
use fred::prelude::{Builder, ClientLike as _, Config, Options, ReconnectPolicy};
use fred::types::config::UnresponsiveConfig;
use secrecy::ExposeSecret as _;

use crate::settings::RedisSettings;

/// Reconnection never gives up (0 attempts = forever): Redis coming back after an outage must
/// be picked up without restarting the server. Delays grow from 100 ms to 2 s.
const RECONNECT_MIN_DELAY_MS: u32 = 100;
const RECONNECT_MAX_DELAY_MS: u32 = 2_000;

/// Our own limit sits a little above fred's, so fred's (more precise) timeout error is the one
/// normally seen; ours only guards against a call fred never finishes.
const TIMEOUT_MARGIN: Duration = Duration::from_millis(500);

/// A connected client. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisConnection {
    client: fred::prelude::Client,
    command_timeout: Duration,
    /// The URL without its password, for messages.
    shown_url: Arc<str>,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection")
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Connects and waits until Redis answers.
    ///
    /// # Errors
    /// When the settings are unusable or Redis cannot be reached within `connect_timeout_ms`;
    /// the message names the URL (without its password).
    pub async fn connect(settings: &RedisSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        let url = settings.url.expose_secret();
        let shown_url: Arc<str> = redact(url).into();
        let config = Config::from_url(url)
            .with_context(|| format!("redis.url `{shown_url}` is not a Redis URL"))?;
        let command_timeout = settings.command_timeout();
        let connect_timeout = settings.connect_timeout();
        let client = Builder::from_config(config)
            .with_connection_config(|connection| {
                connection.connection_timeout = connect_timeout;
                connection.internal_command_timeout = command_timeout;
                // A command whose connection dropped mid-flight is not sent again: the presence
                // scripts are not idempotent (a replayed close would answer "already closed"),
                // so the caller gets an error instead of a wrong answer.
                connection.max_command_attempts = 1;
                // A server that stopped answering (but kept the socket open) is dropped and
                // reconnected rather than waited on for ever.
                connection.unresponsive = UnresponsiveConfig {
                    max_timeout: Some(command_timeout * 2),
                    interval: (command_timeout / 2).max(Duration::from_millis(100)),
                };
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = command_timeout;
            })
            .set_policy(ReconnectPolicy::new_exponential(
                0,
                RECONNECT_MIN_DELAY_MS,
                RECONNECT_MAX_DELAY_MS,
                2,
            ))
            .build()
            .with_context(|| format!("cannot create a Redis client for `{shown_url}`"))?;

        let connected = tokio::time::timeout(connect_timeout + TIMEOUT_MARGIN, client.init()).await;
        let failure = match connected {
            Ok(Ok(_connection_task)) => None,
            Ok(Err(error)) => Some(anyhow::Error::new(error)),
            Err(_) => Some(anyhow::anyhow!("no answer within {connect_timeout:?}")),
        };
        if let Some(error) = failure {
            // Stop the reconnect loop of the client we are giving up on.
            let _ = tokio::time::timeout(TIMEOUT_MARGIN, client.quit()).await;
            return Err(error.context(format!("cannot connect to Redis at `{shown_url}`")));
        }
        Ok(Self {
            client,
            command_timeout,
            shown_url,
        })
    }

    /// Whether Redis answers now (for readiness checks).
    ///
    /// # Errors
    /// When it does not, within the command timeout.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let _: String = self.bounded("PING", self.client.ping(None)).await?;
        Ok(())
    }

    /// The client, for the adapters of this crate.
    pub(crate) fn client(&self) -> &fred::prelude::Client {
        &self.client
    }

    /// The client for cache calls: while the connection is down they fail at once instead of
    /// waiting for a reconnection, since the caller has somewhere else to ask.
    pub(crate) fn fail_fast(&self) -> WithOptions<fred::prelude::Client> {
        self.client.with_options(&Options {
            fail_fast: true,
            max_attempts: Some(1),
            timeout: Some(self.command_timeout),
            ..Options::default()
        })
    }

    /// Runs one Redis call under the command time limit, naming `what` in the error.
    ///
    /// The call is boxed before anything awaits it: fred's futures are large, and every
    /// caller up to the use cases would otherwise carry their size.
    pub(crate) fn bounded<'a, T: 'a>(
        &'a self,
        what: &'a str,
        call: impl Future<Output = Result<T, fred::prelude::Error>> + 'a,
    ) -> impl Future<Output = anyhow::Result<T>> + 'a {
        let call = Box::pin(call);
        async move {
            match tokio::time::timeout(self.command_timeout + TIMEOUT_MARGIN, call).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(error)) => Err(anyhow::Error::new(error)
                    .context(format!("Redis {what} failed at `{}`", self.shown_url))),
                Err(_) => Err(anyhow::anyhow!(
                    "Redis {what} did not finish within {:?} at `{}`",
                    self.command_timeout,
                    self.shown_url
                )),
            }
        }
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`, so a password never reaches a log.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_from_the_url_shown_in_messages() {
        assert_eq!(
            redact("redis://default:hunter2@cache:6379/1"),
            "redis://default:***@cache:6379/1"
        );
        assert_eq!(redact("redis://:hunter2@cache"), "redis://:***@cache");
        assert_eq!(redact("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_with_its_url() {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let settings = RedisSettings {
            connect_timeout_ms: 500,
            ..RedisSettings::new("redis://:secret@127.0.0.1:1")
        };
        let error = RedisConnection::connect(&settings)
            .await
            .expect_err("nothing listens on port 1");
        let message = format!("{error:#}");
        assert!(
            message.contains("redis://:***@127.0.0.1:1"),
            "the message names the url: {message}"
        );
        assert!(
            !message.contains("secret"),
            "the password leaked: {message}"
        );
    }
}

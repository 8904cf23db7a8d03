//! Development tokens for the web chat page: on exactly when the server signs with the
//! built-in development secret, which start-up validation allows only on a local
//! development server (loopback, no real service: `cargo run` out of the box), where
//! anyone can forge a token anyway; never with a configured secret.

use std::sync::Arc;

use adapter_web::DevTokens;
use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use crate::settings::{DEVELOPMENT_SECRET, Settings};
use crate::startup_checks;

/// The issuer behind `POST /dev/token`, or `None` in any other configuration.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<DevTokens>> {
    // The exposure is checked again here, so that the endpoint never depends on
    // start-up validation having run first.
    if settings.jwt.secret.expose_secret() != DEVELOPMENT_SECRET
        || !startup_checks::exposure(settings).is_empty()
    {
        return Ok(None);
    }
    let issuer =
        adapter_jwt::JwtIssuer::new(&settings.jwt).context("cannot sign development tokens")?;
    tracing::warn!(
        path = adapter_web::DEV_TOKEN_PATH,
        "development tokens are on: anyone on this machine can get a token for any user (set CHAT_JWT__SECRET to turn them off)"
    );
    Ok(Some(DevTokens::new(Arc::new(move |user, name, ttl| {
        issuer.issue(user, Some(name), ttl)
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::with_overrides as settings;

    #[test]
    fn development_tokens_are_on_for_a_local_development_server() {
        assert!(from_settings(&settings(&[])).expect("built").is_some());
    }

    #[test]
    fn development_tokens_are_off_on_a_public_host_even_with_the_development_secret() {
        let tokens = from_settings(&settings(&[("http.host", "0.0.0.0")])).expect("built");

        assert!(tokens.is_none());
    }

    #[test]
    fn development_tokens_are_off_in_cluster_mode_even_with_the_development_secret() {
        let tokens =
            from_settings(&settings(&[("redis.url", "redis://127.0.0.1:6379")])).expect("built");

        assert!(tokens.is_none());
    }

    #[test]
    fn development_tokens_are_off_with_a_configured_secret() {
        let tokens = from_settings(&settings(&[(
            "jwt.secret",
            "a-random-secret-of-at-least-32-bytes",
        )]))
        .expect("built");

        assert!(tokens.is_none());
    }
}

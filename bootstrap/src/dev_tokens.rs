//! Development tokens for the web chat page: on exactly when the server signs
//! with the built-in development secret (`cargo run` out of the box), where anyone
//! can forge a token anyway; never with a configured secret.

use std::sync::Arc;

use adapter_web::DevTokens;
use anyhow::Context as _;

use crate::settings::{DEVELOPMENT_SECRET, Settings};

/// The issuer behind `POST /dev/token`, or `None` in any production configuration.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<DevTokens>> {
    if settings.jwt.secret != DEVELOPMENT_SECRET {
        return Ok(None);
    }
    let issuer =
        adapter_jwt::JwtIssuer::new(&settings.jwt).context("cannot sign development tokens")?;
    tracing::warn!(
        path = adapter_web::DEV_TOKEN_PATH,
        "development tokens are on: anyone can get a token for any user (set CHAT_JWT__SECRET to turn them off)"
    );
    Ok(Some(DevTokens::new(Arc::new(move |user, name, ttl| {
        issuer.issue(user, Some(name), ttl)
    }))))
}

//! Start-up validation of the credentials, before anything is built or bound.
//!
//! The built-in development JWT secret and service token are public (they are in this
//! repository), and while the JWT secret is in use `POST /dev/token` hands out a token for
//! any user. They are accepted only on a developer's machine: the server listens on
//! loopback and talks to no real service (none of Kafka, MongoDB, Redis, the community
//! service, the auth service, the state server or S3 is configured): each of those means
//! a deployment, whose other parts sign tokens or send service tokens with real secrets.
//! Everywhere else the server refuses to start and names the setting to set. A configured
//! secret or service token shorter than [`MIN_SECRET_BYTES`] is refused everywhere.

use std::fmt;
use std::net::IpAddr;

use adapter_files::FileBackend;
use secrecy::ExposeSecret as _;

use crate::settings::{DEVELOPMENT_SECRET, DEVELOPMENT_SERVICE_TOKEN, Settings};

/// The shortest JWT secret (its key bytes, after base64 decoding) or service token accepted:
/// 256 bits, the HS256 key size.
pub const MIN_SECRET_BYTES: usize = 32;

/// Why the server refuses to start: every problem found, each naming its setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupRefusal {
    /// One sentence per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for StartupRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsafe configuration, refusing to start")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StartupRefusal {}

/// Which built-in credentials passed validation (only ever on a local development server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// The JWT secret is the built-in one: development tokens are on.
    pub development_secret: bool,
    /// The service token is the built-in one.
    pub development_service_token: bool,
}

/// Checks the credentials against where and how the server runs.
pub fn check(settings: &Settings) -> Result<Credentials, StartupRefusal> {
    let exposure = exposure(settings);
    let credentials = Credentials {
        development_secret: settings.jwt.secret.expose_secret() == DEVELOPMENT_SECRET,
        development_service_token: settings.rest.service_token.expose_secret()
            == DEVELOPMENT_SERVICE_TOKEN,
    };
    let mut problems = Vec::new();
    let built_in = |what: &str, variable: &str| {
        format!(
            "the built-in development {what} is public and only allowed on a loopback host without cluster services, but {}: set {variable} to a random value of at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)",
            exposure.join(" and ")
        )
    };
    if credentials.development_secret {
        if !exposure.is_empty() {
            problems.push(built_in("JWT secret (jwt.secret)", "CHAT_JWT__SECRET"));
        }
    } else {
        match settings.jwt.key() {
            Ok(key) if key.len() >= MIN_SECRET_BYTES => {}
            Ok(key) => problems.push(format!(
                "jwt.secret is {} bytes{}, at least {MIN_SECRET_BYTES} are required: set CHAT_JWT__SECRET to a longer random secret",
                key.len(),
                match settings.jwt.secret_encoding {
                    adapter_jwt::SecretEncoding::Base64 => " after base64 decoding",
                    adapter_jwt::SecretEncoding::Raw => "",
                },
            )),
            Err(error) => problems.push(format!("{error:#}: set CHAT_JWT__SECRET")),
        }
    }
    if credentials.development_service_token {
        if !exposure.is_empty() {
            problems.push(built_in(
                "service token (rest.service_token)",
                "CHAT_REST__SERVICE_TOKEN",
            ));
        }
    } else if settings.rest.service_token.expose_secret().len() < MIN_SECRET_BYTES {
        problems.push(format!(
            "rest.service_token is {} bytes, at least {MIN_SECRET_BYTES} are required: set CHAT_REST__SERVICE_TOKEN to a longer random token",
            settings.rest.service_token.expose_secret().len()
        ));
    }
    if problems.is_empty() {
        Ok(credentials)
    } else {
        Err(StartupRefusal { problems })
    }
}

/// Why this server is not a local development server: empty when it listens on loopback
/// and uses no real service.
pub fn exposure(settings: &Settings) -> Vec<String> {
    let mut reasons = Vec::new();
    if !is_loopback_host(&settings.http.host) {
        reasons.push(format!(
            "http.host is {:?}, not a loopback address (CHAT_HTTP__HOST)",
            settings.http.host
        ));
    }
    for (configured, what) in [
        (settings.kafka.is_some(), "kafka"),
        (settings.mongo.is_some(), "mongo"),
        (settings.redis.is_some(), "redis"),
        (
            settings.community.service.is_some(),
            "community (the community service)",
        ),
        (settings.auth.is_some(), "auth (the auth service)"),
        (settings.state_server.is_some(), "state_server"),
        (
            settings.files.backend == FileBackend::S3,
            "files.backend = s3",
        ),
    ] {
        if configured {
            reasons.push(format!("{what} is configured"));
        }
    }
    reasons
}

/// Whether `host` (as `http.host` is written) only accepts connections from this machine:
/// `localhost`, 127.0.0.0/8 or `::1` (bracketed or IPv4-mapped too).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::with_overrides as settings;

    const SECRET: &str = "a-random-secret-of-at-least-32-bytes";
    const SERVICE_TOKEN: &str = "a-random-service-token-of-32-bytes!";

    fn refusal(overrides: &[(&str, &str)]) -> String {
        check(&settings(overrides))
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn the_defaults_start_as_a_local_development_server() {
        assert_eq!(
            check(&settings(&[])),
            Ok(Credentials {
                development_secret: true,
                development_service_token: true,
            })
        );
    }

    #[test]
    fn the_built_in_credentials_are_fine_on_every_loopback_host() {
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(
                check(&settings(&[("http.host", host)])).is_ok(),
                "{host} is loopback"
            );
        }
    }

    #[test]
    fn the_development_secret_on_a_public_host_is_refused_naming_the_setting() {
        let refusal = refusal(&[
            ("http.host", "0.0.0.0"),
            ("rest.service_token", SERVICE_TOKEN),
        ]);

        assert!(refusal.contains("CHAT_JWT__SECRET"), "{refusal}");
        assert!(refusal.contains("http.host"), "{refusal}");
        assert!(!refusal.contains("CHAT_REST__SERVICE_TOKEN"), "{refusal}");
    }

    #[test]
    fn the_development_service_token_on_a_public_host_is_refused_naming_the_setting() {
        let refusal = refusal(&[("http.host", "192.168.1.10"), ("jwt.secret", SECRET)]);

        assert!(refusal.contains("CHAT_REST__SERVICE_TOKEN"), "{refusal}");
        assert!(!refusal.contains("CHAT_JWT__SECRET"), "{refusal}");
    }

    #[test]
    fn every_cluster_or_service_setting_refuses_the_built_in_credentials_on_loopback() {
        for (key, value, named) in [
            ("kafka.brokers", "127.0.0.1:9092", "kafka"),
            ("mongo.uri", "mongodb://127.0.0.1", "mongo"),
            ("redis.url", "redis://127.0.0.1", "redis"),
            ("community.base_url", "http://127.0.0.1:1", "community"),
            ("auth.base_url", "http://127.0.0.1:1", "auth"),
            ("state_server.address", "127.0.0.1:1", "state_server"),
            ("files.backend", "s3", "files.backend"),
        ] {
            let refusal = refusal(&[(key, value)]);

            assert!(refusal.contains("CHAT_JWT__SECRET"), "{key}: {refusal}");
            assert!(
                refusal.contains("CHAT_REST__SERVICE_TOKEN"),
                "{key}: {refusal}"
            );
            assert!(refusal.contains(named), "{key}: {refusal}");
        }
    }

    #[test]
    fn configured_credentials_start_anywhere() {
        let checked = check(&settings(&[
            ("http.host", "0.0.0.0"),
            ("kafka.brokers", "127.0.0.1:9092"),
            ("jwt.secret", SECRET),
            ("rest.service_token", SERVICE_TOKEN),
        ]));

        assert_eq!(
            checked,
            Ok(Credentials {
                development_secret: false,
                development_service_token: false,
            })
        );
    }

    #[test]
    fn a_short_secret_is_refused_even_on_loopback() {
        let refusal = refusal(&[("jwt.secret", "only-31-bytes-long-secret-value")]);

        assert!(refusal.contains("jwt.secret is 31 bytes"), "{refusal}");
        assert!(refusal.contains("CHAT_JWT__SECRET"), "{refusal}");
    }

    #[test]
    fn a_base64_secret_is_measured_after_decoding() {
        // 44 characters of base64, but 32 bytes of key: accepted.
        let key_of_32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        // 40 characters of base64, 30 bytes of key: refused.
        let key_of_30 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNk";

        assert!(
            check(&settings(&[
                ("jwt.secret", key_of_32),
                ("jwt.secret_encoding", "base64"),
            ]))
            .is_ok()
        );
        let refusal = refusal(&[("jwt.secret", key_of_30), ("jwt.secret_encoding", "base64")]);
        assert!(
            refusal.contains("30 bytes after base64 decoding"),
            "{refusal}"
        );
    }

    #[test]
    fn a_short_service_token_is_refused() {
        let refusal = refusal(&[("rest.service_token", "short")]);

        assert!(
            refusal.contains("rest.service_token is 5 bytes"),
            "{refusal}"
        );
        assert!(refusal.contains("CHAT_REST__SERVICE_TOKEN"), "{refusal}");
    }

    #[test]
    fn public_and_unparsable_hosts_are_not_loopback() {
        for host in [
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "example.com",
            "localhost.evil",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
        assert!(is_loopback_host("::ffff:127.0.0.1"));
    }
}

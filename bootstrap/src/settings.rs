//! Typed settings, layered: the checked-in `config/default.toml` (compiled in), then
//! an optional file named by `CHAT_CONFIG`, then `CHAT_`-prefixed environment
//! variables with `__` between levels (`CHAT_HTTP__PORT=9000` sets `http.port`).

use adapter_auth_http::AuthHttpSettings;
use adapter_files::FilesSettings;
use adapter_jwt::JwtSettings;
#[cfg(feature = "kafka")]
use adapter_kafka::KafkaSettings;
#[cfg(feature = "mongo")]
use adapter_mongo::MongoSettings;
#[cfg(feature = "redis")]
use adapter_redis::RedisSettings;
use adapter_rest::RestSettings;
use adapter_state_tcp::StateTcpSettings;
use adapter_stomp::StompSettings;
use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Env, Format as _, Toml};
use serde::Deserialize;

/// The defaults, compiled in so the binary runs from any directory.
const DEFAULTS: &str = include_str!("../../config/default.toml");

/// The development secret of `config/default.toml`.
pub const DEVELOPMENT_SECRET: &str = "chat-server-development-secret";

/// The development service token of `config/default.toml`.
pub const DEVELOPMENT_SERVICE_TOKEN: &str = "chat-server-development-service-token";

/// The table of a real service this binary was built without: read, so that start-up can
/// name the missing Cargo feature rather than ignore the table.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct NotBuiltIn(serde::de::IgnoredAny);

#[cfg(not(feature = "kafka"))]
type KafkaSettings = NotBuiltIn;
#[cfg(not(feature = "mongo"))]
type MongoSettings = NotBuiltIn;
#[cfg(not(feature = "redis"))]
type RedisSettings = NotBuiltIn;

/// Every setting of the server.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Where to listen.
    pub http: HttpSettings,
    /// Access tokens.
    pub jwt: JwtSettings,
    /// The REST API.
    pub rest: RestSettings,
    /// Per-user request allowances.
    pub limits: LimitsSettings,
    /// The external state server; absent: the in-memory stand-in.
    #[serde(default)]
    pub state_server: Option<StateTcpSettings>,
    /// The community service (absent: the open in-process directory) and how channels are
    /// placed in communities.
    #[serde(default)]
    pub community: crate::community::CommunitySettings,
    /// The auth service (display names and images); absent: profiles from verified tokens.
    #[serde(default)]
    pub auth: Option<AuthHttpSettings>,
    /// This instance's name among the instances of a cluster (Kafka consumer groups,
    /// presence leases); absent: the host name. Instances sharing a host must set it.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// Kafka, carrying every event to every instance; absent: the in-process bus.
    #[serde(default)]
    pub kafka: Option<KafkaSettings>,
    /// MongoDB, storing messages and read markers; absent: in process.
    #[serde(default)]
    pub mongo: Option<MongoSettings>,
    /// The message store's own settings (`[store.memory]`: the bounds of the embedded one).
    #[serde(default)]
    pub store: StoreSettings,
    /// Redis, holding sessions and presence for every instance and the member caches;
    /// absent: in process.
    #[serde(default)]
    pub redis: Option<RedisSettings>,
    /// Shared files: where uploads are stored and what they may be.
    #[serde(default)]
    pub files: FilesSettings,
    /// The STOMP endpoint.
    pub stomp: StompSettings,
    /// How bus events reach this instance's subscribers.
    #[serde(default)]
    pub delivery: DeliverySettings,
    /// Logging.
    pub log: LogSettings,
}

/// The `[delivery]` table: how long a room event that overtook an earlier one waits for it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Longest wait for a missing room seq before it is skipped (a dead writer's seq must
    /// not stall its room for long; a slow writer's event must still find its place).
    pub order_hold_ms: u64,
    /// Longest wait of the first event seen of a room with history for an older one.
    pub first_event_hold_ms: u64,
    /// How long a missing seq is waited for on the bus before it is looked up in the store.
    pub probe_after_ms: u64,
    /// Most events held in one room before its oldest gap is skipped at once; at most half
    /// of `stomp.outbound_queue` is used, so that a released hold fits in a subscriber's queue.
    pub max_held_per_room: usize,
    /// Most rooms whose delivery position is remembered.
    pub max_rooms: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        let limits = application::usecases::DEFAULT_ORDER_LIMITS;
        Self {
            order_hold_ms: millis(limits.hold),
            first_event_hold_ms: millis(limits.first_hold),
            probe_after_ms: millis(limits.probe_after),
            max_held_per_room: limits.max_held_per_room,
            max_rooms: limits.max_rooms,
        }
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl DeliverySettings {
    /// The limits the delivery use case applies, for subscribers whose outbound queues hold
    /// `outbound_queue` frames.
    pub fn limits(&self, outbound_queue: usize) -> domain::OrderLimits {
        domain::OrderLimits {
            hold: std::time::Duration::from_millis(self.order_hold_ms),
            first_hold: std::time::Duration::from_millis(self.first_event_hold_ms),
            probe_after: std::time::Duration::from_millis(self.probe_after_ms),
            max_held_per_room: self.max_held_per_room.min(outbound_queue / 2).max(1),
            max_rooms: self.max_rooms.max(1),
        }
    }
}

/// The `[store]` table: settings of each message store.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The embedded (in-memory) store, used without `[mongo]`.
    #[serde(default)]
    pub memory: MemoryStoreSettings,
}

/// The `[store.memory]` table: how much the embedded message store keeps.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryStoreSettings {
    /// Newest messages kept per room (at least 1).
    pub max_messages_per_room: usize,
    /// Messages older than this are dropped; 0: kept whatever their age.
    pub max_age_seconds: u64,
    /// Rooms remembered (at least 1); when full, the tenth silent longest is forgotten.
    pub max_rooms: usize,
    /// Estimated bytes of every message held (at least 1); past it the oldest go first.
    pub max_bytes: usize,
}

impl Default for MemoryStoreSettings {
    fn default() -> Self {
        let limits = adapter_memory::MemoryStoreLimits::DEFAULT;
        Self {
            max_messages_per_room: limits.max_messages_per_room,
            max_age_seconds: limits.max_age.map_or(0, |age| age.as_secs()),
            max_rooms: limits.max_rooms,
            max_bytes: limits.max_bytes,
        }
    }
}

impl MemoryStoreSettings {
    /// The limits the embedded store applies.
    pub fn limits(&self) -> adapter_memory::MemoryStoreLimits {
        adapter_memory::MemoryStoreLimits {
            max_messages_per_room: self.max_messages_per_room.max(1),
            max_age: (self.max_age_seconds > 0)
                .then(|| std::time::Duration::from_secs(self.max_age_seconds)),
            max_rooms: self.max_rooms.max(1),
            max_bytes: self.max_bytes.max(1),
        }
    }
}

/// The `[http]` table.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 lets the OS choose.
    pub port: u16,
    /// Connections the kernel queues for the server to accept (at least 1; the kernel caps
    /// it at `net.core.somaxconn`): a burst beyond it has its SYNs dropped and retried after
    /// seconds.
    pub listen_backlog: u32,
    /// On SIGTERM: how long sessions get to close and users to go offline before the
    /// server exits anyway, whatever the clients do (seconds).
    pub shutdown_grace_seconds: u64,
}

/// The `[limits]` table: per-user and per-room token buckets.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct LimitsSettings {
    /// Sustained writes (SENDs) per second.
    pub write_per_second: f64,
    /// Writes allowed at once.
    pub write_burst: f64,
    /// Sustained reads (REST calls) per second.
    pub read_per_second: f64,
    /// Reads allowed at once.
    pub read_burst: f64,
    /// Sustained SUBSCRIBEs per second.
    pub subscribe_per_second: f64,
    /// SUBSCRIBEs allowed at once (a client subscribes to each of its rooms on start).
    pub subscribe_burst: f64,
    /// Sustained message changes (posts, replies, edits, deletes, file messages) per second
    /// in one room, whoever makes them; 0: rooms are not limited.
    #[serde(default = "default_room_write_per_second")]
    pub room_write_per_second: f64,
    /// Message changes allowed at once in one room (at least 1 when rooms are limited).
    #[serde(default = "default_room_write_burst")]
    pub room_write_burst: f64,
    /// With `[redis]`, the allowances are shared by every instance; while Redis cannot
    /// answer, each instance limits on its own with every allowance multiplied by this
    /// (above 0, at most 1): stricter, so that an outage never lifts the limits.
    #[serde(default = "default_outage_factor")]
    pub outage_factor: f64,
}

fn default_outage_factor() -> f64 {
    0.5
}

fn default_room_write_per_second() -> f64 {
    50.0
}

fn default_room_write_burst() -> f64 {
    100.0
}

/// The `[log]` table.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

impl Settings {
    /// This instance's name: configured, else the host name.
    pub fn instance_id(&self) -> String {
        if let Some(id) = self
            .instance_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
        {
            return id.to_owned();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "chat-server".to_owned())
    }

    /// Loads the layered settings.
    pub fn load() -> anyhow::Result<Self> {
        Self::figment()
            .extract()
            .context("invalid configuration (defaults, CHAT_CONFIG file, CHAT_* variables)")
    }

    /// The layered sources, so tests can merge overrides on top.
    pub fn figment() -> Figment {
        let mut figment = Figment::new().merge(Toml::string(DEFAULTS));
        if let Ok(path) = std::env::var("CHAT_CONFIG") {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment.merge(Env::prefixed("CHAT_").split("__"))
    }
}

/// The defaults with `overrides` (dotted keys) on top, for unit tests.
#[cfg(test)]
pub(crate) fn with_overrides(overrides: &[(&str, &str)]) -> Settings {
    let mut figment = Figment::new().merge(Toml::string(DEFAULTS));
    for (key, value) in overrides {
        figment = figment.merge(figment::providers::Serialized::default(key, value));
    }
    figment.extract().expect("settings parse")
}

#[cfg(test)]
mod tests {
    use figment::providers::Serialized;
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn the_defaults_are_embedded_mode_on_localhost_8080() {
        let settings: Settings = Figment::new()
            .merge(Toml::string(DEFAULTS))
            .extract()
            .expect("defaults parse");
        assert_eq!(settings.http.host, "127.0.0.1");
        assert_eq!(settings.http.port, 8080);
        assert_eq!(settings.jwt.secret.expose_secret(), DEVELOPMENT_SECRET);
        assert_eq!(settings.log.format, LogFormat::Pretty);
    }

    #[test]
    fn debug_output_never_shows_the_secrets() {
        let settings = with_overrides(&[
            ("jwt.secret", "the-jwt-secret-nobody-may-read-1234"),
            ("rest.service_token", "the-service-token-nobody-may-read-1"),
            ("files.link_secret", "the-link-secret-nobody-may-read-12"),
            ("files.s3.access_key_id", "the-key-id-nobody-may-read"),
            ("files.s3.secret_access_key", "s3-secret-nobody-may-read"),
            ("mongo.uri", "mongodb://chat:nobody-may-read@db:27017"),
            ("redis.url", "redis://default:nobody-may-read@cache:6379"),
        ]);

        let printed = format!("{settings:?}");

        assert!(!printed.contains("nobody-may-read"), "{printed}");
        assert!(printed.contains("[REDACTED]"), "{printed}");
    }

    #[test]
    fn the_embedded_store_is_bounded_by_default_and_an_age_of_zero_is_no_age_limit() {
        let defaults = with_overrides(&[]).store.memory.limits();
        let aged: Settings = Figment::new()
            .merge(Toml::string(DEFAULTS))
            .merge(Serialized::default("store.memory.max_age_seconds", 3600))
            .extract()
            .expect("parse");
        let aged = aged.store.memory.limits();

        assert_eq!(defaults, adapter_memory::MemoryStoreLimits::DEFAULT);
        assert_eq!(defaults.max_age, None);
        assert_eq!(aged.max_age, Some(std::time::Duration::from_secs(3600)));
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let settings: Settings = Figment::new()
            .merge(Toml::string(DEFAULTS))
            .merge(Serialized::default("http.port", 0))
            .extract()
            .expect("parse");
        assert_eq!(settings.http.port, 0);
    }
}

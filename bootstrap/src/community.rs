//! The `[community]` table and its start-up rules: the community service (when `base_url` is
//! set), the explicit opt-in to the open directory in cluster mode (`open`), and how a channel
//! no source knows is placed (`channel_binding`).

use adapter_community_http::CommunityHttpSettings;
use application::usecases::ChannelBinding;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::Settings;

/// How a channel no authoritative source knows is treated (`community.channel_binding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelBindingSetting {
    /// Refused with `unknown_channel`: the community service's lookup or registration decides.
    #[default]
    Off,
    /// The first post by a member of the community it names binds the channel.
    FirstPost,
}

/// The `[community]` table.
#[derive(Debug, Clone, Default)]
pub struct CommunitySettings {
    /// The community service; absent (no `base_url`): the open in-process directory.
    pub service: Option<CommunityHttpSettings>,
    /// Allows the open directory in cluster mode (Kafka, MongoDB or Redis configured).
    pub open: bool,
    /// Binding mode, for a community service that can neither look up nor register channels.
    pub channel_binding: ChannelBindingSetting,
}

impl<'de> Deserialize<'de> for CommunitySettings {
    /// `open` and `channel_binding` are this table's own; every other key belongs to the
    /// community service's settings, which are present exactly when any of them is.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut table = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let open = table
            .remove("open")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| D::Error::custom(format!("community.open: {e}")))?
            .unwrap_or(false);
        let channel_binding = table
            .remove("channel_binding")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| D::Error::custom(format!("community.channel_binding: {e}")))?
            .unwrap_or_default();
        let service = if table.is_empty() {
            None
        } else {
            Some(
                serde_json::from_value(serde_json::Value::Object(table))
                    .map_err(|e| D::Error::custom(format!("community: {e}")))?,
            )
        };
        Ok(Self {
            service,
            open,
            channel_binding,
        })
    }
}

/// Whether anything of cluster mode is configured.
fn cluster(settings: &Settings) -> bool {
    settings.kafka.is_some() || settings.mongo.is_some() || settings.redis.is_some()
}

/// Refuses configurations where membership would not be decided by anyone: the open directory
/// in cluster mode without `community.open = true`, and binding mode where bindings could not
/// be shared or kept. Logs which directory is in use when it is the open one.
///
/// # Errors
/// Names the setting to change.
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    let community = &settings.community;
    match (&community.service, community.open, cluster(settings)) {
        (Some(_), true, _) => anyhow::bail!(
            "community.open = true and community.base_url are both set: remove one \
             (CHAT_COMMUNITY__OPEN or CHAT_COMMUNITY__BASE_URL)"
        ),
        (None, false, true) => anyhow::bail!(
            "cluster mode ([kafka], [mongo] or [redis] configured) without a community service \
             would let any user use any DM room or channel: set community.base_url \
             (CHAT_COMMUNITY__BASE_URL), or community.open = true (CHAT_COMMUNITY__OPEN) to \
             accept the open directory"
        ),
        (None, true, true) => tracing::warn!(
            "community.open = true: cluster mode with the open directory; any user may use any \
             DM room, community or channel that has no member list set through the service endpoints"
        ),
        (None, _, false) => tracing::info!(
            "no community service (community.base_url): the open directory; any user may use \
             any DM room, community or channel that has no member list set through the service endpoints"
        ),
        (Some(_), false, _) => {}
    }
    if channel_binding(settings) == ChannelBinding::FirstPost
        && (settings.kafka.is_some() || settings.mongo.is_some())
        && settings.redis.is_none()
    {
        anyhow::bail!(
            "channel binding (community.channel_binding = \"first_post\", or the open directory) \
             with [kafka] or [mongo] needs [redis], where bindings are shared and kept: without \
             it each instance would bind channels on its own and forget them on restart"
        );
    }
    Ok(())
}

/// How the use cases treat a channel no source knows: the open directory has no source but
/// binding; otherwise `community.channel_binding`.
pub fn channel_binding(settings: &Settings) -> ChannelBinding {
    match (
        &settings.community.service,
        settings.community.channel_binding,
    ) {
        (None, _) | (Some(_), ChannelBindingSetting::FirstPost) => ChannelBinding::FirstPost,
        (Some(_), ChannelBindingSetting::Off) => ChannelBinding::Authoritative,
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format as _, Toml};

    use super::*;

    /// The layered settings with `key = value` lines (TOML, dotted keys) on top.
    fn settings(overrides: &[(&str, &str)]) -> Settings {
        let toml = overrides
            .iter()
            .map(|(key, value)| format!("{key} = {value}"))
            .collect::<Vec<_>>()
            .join("\n");
        Settings::figment()
            .merge(Toml::string(&toml))
            .extract()
            .expect("settings")
    }

    #[test]
    fn open_and_channel_binding_are_the_tables_own_and_the_rest_is_the_community_service() {
        let open = settings(&[("community.open", "true")]);
        let service = settings(&[
            ("community.base_url", "\"http://community:8080\""),
            ("community.channel_binding", "\"first_post\""),
        ]);

        assert!(open.community.open && open.community.service.is_none());
        assert_eq!(
            service.community.service,
            Some(CommunityHttpSettings::new("http://community:8080"))
        );
        assert_eq!(
            service.community.channel_binding,
            ChannelBindingSetting::FirstPost
        );
        assert_eq!(channel_binding(&service), ChannelBinding::FirstPost);
    }

    #[test]
    fn a_community_service_looks_channels_up_unless_binding_is_asked_for() {
        let service = settings(&[("community.base_url", "\"http://community:8080\"")]);

        assert_eq!(channel_binding(&service), ChannelBinding::Authoritative);
        assert_eq!(
            channel_binding(&settings(&[])),
            ChannelBinding::FirstPost,
            "the open directory has nothing but binding"
        );
    }

    #[test]
    fn cluster_mode_without_a_community_service_is_refused_naming_community_open() {
        let refused = check(&settings(&[("redis.url", "\"redis://127.0.0.1:6379\"")]));
        let accepted = check(&settings(&[
            ("redis.url", "\"redis://127.0.0.1:6379\""),
            ("community.open", "true"),
        ]));

        let message = format!("{:#}", refused.expect_err("refused"));
        assert!(message.contains("community.open"), "{message}");
        assert!(accepted.is_ok(), "{accepted:?}");
        assert!(check(&settings(&[])).is_ok(), "embedded mode stays open");
    }

    #[test]
    fn binding_with_mongo_but_no_redis_is_refused() {
        let refused = check(&settings(&[
            ("mongo.uri", "\"mongodb://127.0.0.1:27017\""),
            ("community.base_url", "\"http://community:8080\""),
            ("community.channel_binding", "\"first_post\""),
        ]));

        let message = format!("{:#}", refused.expect_err("refused"));
        assert!(message.contains("[redis]"), "{message}");
    }
}

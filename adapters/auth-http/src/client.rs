//! The auth service's HTTP API (`docs/original-system.md` §8): `POST /find-id-list` with a JSON
//! array of user ids, retried a few times on the failures a second try can fix, and lenient
//! parsing of its body (one bad entry never spoils a whole answer, and no body can make us panic).

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use domain::{UserId, UserProfile};
use serde::Deserialize;
use serde_json::Value;
use service_http::{Reply, ServiceClient, ServiceSettings};

use crate::settings::AuthHttpSettings;

/// Largest reply body read, so a broken service cannot make us buffer without end. A reply for a
/// handful of ids is well below this.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest display name or image URL kept; longer ones are cut, so one odd profile cannot
/// bloat every event its user sends.
const MAX_FIELD_CHARS: usize = 2048;

/// The auth service, spoken to over HTTP.
#[derive(Debug, Clone)]
pub(crate) struct AuthClient {
    service: ServiceClient,
}

impl AuthClient {
    /// One HTTP client (one connection pool) with the settings' timeout on every attempt.
    pub(crate) fn new(settings: &AuthHttpSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        Ok(Self {
            service: ServiceClient::new(&ServiceSettings {
                name: "auth service",
                base_url: &settings.base_url,
                timeout: settings.timeout(),
                retries: settings.retries,
                retry_backoff: settings.retry_backoff(),
                max_body_bytes: MAX_BODY_BYTES,
            })?,
        })
    }

    /// Whether the service answers HTTP at its base URL now (any status counts: the seed's
    /// service has no health endpoint).
    pub(crate) async fn ping(&self) -> anyhow::Result<()> {
        self.service.ping().await
    }

    /// The profiles of `users` the service knows; users it does not know are absent.
    pub(crate) async fn find_id_list(
        &self,
        users: &[UserId],
    ) -> anyhow::Result<HashMap<UserId, UserProfile>> {
        let ids: Vec<u64> = users.iter().map(|user| user.get()).collect();
        let body = serde_json::to_vec(&ids).context("encoding the id list")?;
        match self.service.post_json("/find-id-list", body).await? {
            Reply::Body(reply) => parse_profiles(&reply).context("POST /find-id-list"),
            Reply::NotFound => Err(anyhow!("POST /find-id-list: 404 Not Found")),
        }
    }
}

/// The seed's envelope; `code` and `message` are only quoted in errors.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "isSuccess")]
    is_success: Option<bool>,
    code: Option<Value>,
    result: Option<HashMap<String, Value>>,
}

/// `{"isSuccess":true,…,"result":{"1":{"id":1,"name":"nick","image":"https://…",…}}}`: the
/// profiles by user id. Entries without a usable id or name are skipped (their users count as
/// unknown); an envelope that says `isSuccess:false` or has no `result` object is an error.
pub(crate) fn parse_profiles(body: &[u8]) -> anyhow::Result<HashMap<UserId, UserProfile>> {
    let envelope: Envelope =
        serde_json::from_slice(body).context("the profile list is not the expected JSON")?;
    if envelope.is_success == Some(false) {
        let code = envelope.code.unwrap_or(Value::Null);
        return Err(anyhow!("the auth service refused the lookup (code {code})"));
    }
    let entries = envelope
        .result
        .ok_or_else(|| anyhow!("the profile list has no result object"))?;
    Ok(entries
        .iter()
        .filter_map(|(key, entry)| {
            let parsed = parse_entry(key, entry);
            if parsed.is_none() {
                tracing::warn!(key, %entry, "skipping a profile without a matching positive id and a name");
            }
            parsed
        })
        .map(|profile| (profile.id, profile))
        .collect())
}

fn parse_entry(key: &str, entry: &Value) -> Option<UserProfile> {
    let id = UserId::parse(key).ok()?;
    // The entry's own id, when present, must agree with its key.
    let agrees = match entry.get("id") {
        None | Some(Value::Null) => true,
        Some(Value::Number(number)) => number.as_u64() == Some(id.get()),
        Some(Value::String(text)) => UserId::parse(text) == Ok(id),
        Some(_) => false,
    };
    if !agrees {
        return None;
    }
    let name = text_field(entry, "name")?;
    Some(UserProfile {
        id,
        name,
        image: text_field(entry, "image"),
    })
}

/// A non-blank string field, trimmed and cut to [`MAX_FIELD_CHARS`].
fn text_field(entry: &Value, field: &str) -> Option<String> {
    let text = entry.get(field)?.as_str()?.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_FIELD_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: u64, name: &str, image: Option<&str>) -> UserProfile {
        UserProfile {
            id: UserId::new(id),
            name: name.to_owned(),
            image: image.map(str::to_owned),
        }
    }

    #[test]
    fn the_seeds_reply_is_read_into_profiles_by_id() {
        let profiles = parse_profiles(
            r#"{"isSuccess":true,"code":1000,"message":"요청에 성공하였습니다.","result":{
                "1":{"id":1,"name":"nick","code":"1234","image":"https://img/1.png","state":"online"},
                "2":{"id":"2","name":" 둘 ","image":"","state":"offline"},
                "3":{"name":"three","image":null}}}"#
                .as_bytes(),
        )
        .expect("profiles");
        assert_eq!(profiles.len(), 3);
        assert_eq!(
            profiles[&UserId::new(1)],
            profile(1, "nick", Some("https://img/1.png"))
        );
        assert_eq!(profiles[&UserId::new(2)], profile(2, "둘", None));
        assert_eq!(profiles[&UserId::new(3)], profile(3, "three", None));
    }

    #[test]
    fn entries_without_a_matching_id_or_a_name_are_skipped() {
        let profiles = parse_profiles(
            br#"{"isSuccess":true,"result":{
                "1":{"id":2,"name":"liar"},
                "x":{"name":"no id"},
                "0":{"name":"zero"},
                "4":{"id":4},
                "5":{"id":5,"name":"  "},
                "6":{"id":6,"name":42},
                "7":"seven",
                "8":{"id":[8],"name":"odd id"},
                "9":{"id":9,"name":"ok"}}}"#,
        )
        .expect("profiles");
        assert_eq!(profiles.len(), 1, "{profiles:?}");
        assert_eq!(profiles[&UserId::new(9)], profile(9, "ok", None));
    }

    #[test]
    fn long_names_are_cut() {
        let name = "n".repeat(MAX_FIELD_CHARS + 10);
        let body = format!(r#"{{"result":{{"1":{{"name":"{name}"}}}}}}"#);
        let profiles = parse_profiles(body.as_bytes()).expect("profiles");
        assert_eq!(profiles[&UserId::new(1)].name.len(), MAX_FIELD_CHARS);
    }

    #[test]
    fn a_refusal_or_a_body_of_another_shape_is_an_error() {
        assert!(parse_profiles(br#"{"isSuccess":false,"code":2004,"message":"no"}"#).is_err());
        assert!(parse_profiles(br#"{"isSuccess":true,"result":null}"#).is_err());
        assert!(parse_profiles(br#"{"isSuccess":true,"result":[1]}"#).is_err());
        assert!(parse_profiles(b"[1,2]").is_err());
        assert!(parse_profiles(b"<html>").is_err());
        assert!(parse_profiles(b"").is_err());
        assert!(
            parse_profiles(br#"{"isSuccess":true,"result":{}}"#)
                .expect("empty")
                .is_empty()
        );
    }
}

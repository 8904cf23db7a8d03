//! The community service's HTTP API (`docs/original-system.md` §8, plus the channel lookup this
//! server defines, `GET /channel/{channelId}`): the four GETs this server needs,
//! each retried a few times on the failures a second try can fix, and lenient parsing of their
//! bodies (one bad entry never spoils a whole answer, and no body can make us panic).

use anyhow::{Context as _, anyhow};
use domain::{Audience, ChannelId, CommunityId, RoomId, UserId};
use serde::Deserialize;
use service_http::{Reply, ServiceClient, ServiceSettings};

use crate::settings::CommunityHttpSettings;

/// Largest reply body read, so a broken service cannot make us buffer without end. A member list
/// of a very large community is well below this.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A group whose member list the community service keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum MemberGroup {
    /// A DM room (`/room/feign/{roomId}/member-id`).
    Room(RoomId),
    /// A community (`/community/feign/{communityId}/member-id`).
    Community(CommunityId),
}

/// The community service, spoken to over HTTP.
#[derive(Debug, Clone)]
pub(crate) struct CommunityClient {
    service: ServiceClient,
}

impl CommunityClient {
    /// One HTTP client (one connection pool) with the settings' timeout on every attempt.
    pub(crate) fn new(settings: &CommunityHttpSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        Ok(Self {
            service: ServiceClient::new(&ServiceSettings {
                name: "community service",
                base_url: &settings.base_url,
                timeout: settings.timeout(),
                retries: settings.retries,
                retry_backoff: settings.retry_backoff(),
                max_body_bytes: MAX_BODY_BYTES,
            })?,
        })
    }

    /// Whether the service answers HTTP at its base URL now (any status counts:
    /// the seed's service has no health endpoint).
    pub(crate) async fn ping(&self) -> anyhow::Result<()> {
        self.service.ping().await
    }

    /// The DM rooms and communities `user` belongs to.
    pub(crate) async fn room_list(&self, user: UserId) -> anyhow::Result<Vec<Audience>> {
        let path = format!("/community/feign/room-list/{user}");
        match self.service.get(&path).await? {
            Reply::Body(body) => parse_room_list(&body).with_context(|| format!("GET {path}")),
            // Unlike member-id, the seed's room-list answers an empty array for an unknown
            // user; a 404 here means the service is not the one we expect.
            Reply::NotFound => Err(anyhow!("GET {path}: 404 Not Found")),
        }
    }

    /// The members of a DM room or community.
    pub(crate) async fn members(&self, group: MemberGroup) -> anyhow::Result<Vec<UserId>> {
        let path = match group {
            MemberGroup::Room(room) => format!("/room/feign/{room}/member-id"),
            MemberGroup::Community(community) => {
                format!("/community/feign/{community}/member-id")
            }
        };
        match self.service.get(&path).await? {
            Reply::Body(body) => parse_members(&body).with_context(|| format!("GET {path}")),
            // No such room or community: nobody is a member, so nobody may post.
            Reply::NotFound => Ok(Vec::new()),
        }
    }

    /// The community `channel` belongs to; `None` when the service does not know the channel
    /// (a 404, which is also what a service without this endpoint answers).
    pub(crate) async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> anyhow::Result<Option<CommunityId>> {
        let path = format!("/channel/{channel}");
        match self.service.get(&path).await? {
            Reply::Body(body) => parse_channel_community(&body)
                .map(Some)
                .with_context(|| format!("GET {path}")),
            Reply::NotFound => Ok(None),
        }
    }
}

/// `["community/3","direct/5"]`; entries that are not one of those shapes are skipped.
pub(crate) fn parse_room_list(body: &[u8]) -> anyhow::Result<Vec<Audience>> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(body).context("the room list is not a JSON array")?;
    Ok(entries
        .iter()
        .filter_map(|entry| {
            let parsed = entry.as_str().and_then(parse_room_entry);
            if parsed.is_none() {
                tracing::warn!(%entry, "skipping a room list entry (not community/<id> or direct/<id>)");
            }
            parsed
        })
        .collect())
}

fn parse_room_entry(text: &str) -> Option<Audience> {
    let (kind, id) = text.split_once('/')?;
    match kind {
        "community" => CommunityId::parse(id).ok().map(Audience::Community),
        "direct" => RoomId::parse(id).ok().map(Audience::Direct),
        _ => None,
    }
}

/// The seed's envelope; `isSuccess`, `code` and `message` are ignored.
#[derive(Deserialize)]
struct Envelope {
    result: Option<MemberList>,
}

#[derive(Deserialize)]
struct MemberList {
    members: Option<Vec<serde_json::Value>>,
}

/// The seed's envelope around a channel lookup; `isSuccess`, `code` and `message` are ignored.
#[derive(Deserialize)]
struct ChannelEnvelope {
    result: Option<ChannelOwner>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelOwner {
    community_id: Option<serde_json::Value>,
}

/// `{"result":{"communityId":3}}`; the id may also be a numeric string. Anything else is an
/// error, never a guess: a channel is placed only by a clear answer.
pub(crate) fn parse_channel_community(body: &[u8]) -> anyhow::Result<CommunityId> {
    let envelope: ChannelEnvelope =
        serde_json::from_slice(body).context("the channel lookup is not the expected JSON")?;
    let id = envelope
        .result
        .and_then(|result| result.community_id)
        .ok_or_else(|| anyhow!("the channel lookup has no result.communityId"))?;
    let parsed = match &id {
        serde_json::Value::Number(number) => number
            .as_u64()
            .and_then(|id| CommunityId::parse(&id.to_string()).ok()),
        serde_json::Value::String(text) => CommunityId::parse(text).ok(),
        _ => None,
    };
    parsed.ok_or_else(|| anyhow!("result.communityId {id} is not a community id"))
}

/// `{"result":{"members":[1,2,3]}}`; ids may also be numeric strings, anything else is skipped.
pub(crate) fn parse_members(body: &[u8]) -> anyhow::Result<Vec<UserId>> {
    let envelope: Envelope =
        serde_json::from_slice(body).context("the member list is not the expected JSON")?;
    let members = envelope
        .result
        .and_then(|result| result.members)
        .ok_or_else(|| anyhow!("the member list has no result.members"))?;
    Ok(members
        .iter()
        .filter_map(|member| {
            let parsed = match member {
                serde_json::Value::Number(number) => {
                    number.as_u64().filter(|id| *id > 0).map(UserId::new)
                }
                serde_json::Value::String(text) => UserId::parse(text).ok(),
                _ => None,
            };
            if parsed.is_none() {
                tracing::warn!(%member, "skipping a member id that is not a positive number");
            }
            parsed
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_list_entries_of_unknown_shape_are_skipped() {
        let rooms = parse_room_list(
            br#"["community/3","direct/5","channel/7","community/x","direct/0",12,null,"direct"]"#,
        )
        .expect("an array");
        assert_eq!(
            rooms,
            vec![
                Audience::Community(CommunityId::new(3)),
                Audience::Direct(RoomId::new(5))
            ]
        );
        assert!(parse_room_list(br#"{"result":[]}"#).is_err());
        assert!(parse_room_list(b"").is_err());
    }

    #[test]
    fn member_lists_are_read_from_the_envelope_leniently() {
        let members = parse_members(
            br#"{"isSuccess":true,"code":1000,"message":"ok","result":{"members":[1,"2",-3,0,"x",4.5,7]}}"#,
        )
        .expect("members");
        assert_eq!(
            members,
            vec![UserId::new(1), UserId::new(2), UserId::new(7)]
        );
        assert!(parse_members(br#"{"isSuccess":false,"code":4002}"#).is_err());
        assert!(parse_members(br#"{"result":null}"#).is_err());
        assert!(parse_members(b"[1,2]").is_err());
        assert!(parse_members(b"<html>").is_err());
    }

    #[test]
    fn a_channel_lookup_names_one_community_or_is_an_error() {
        assert_eq!(
            parse_channel_community(
                br#"{"isSuccess":true,"code":1000,"result":{"communityId":3}}"#
            )
            .expect("community"),
            CommunityId::new(3)
        );
        assert_eq!(
            parse_channel_community(br#"{"result":{"communityId":"4"}}"#).expect("community"),
            CommunityId::new(4)
        );
        for bad in [
            &br#"{"result":{"communityId":0}}"#[..],
            br#"{"result":{"communityId":-3}}"#,
            br#"{"result":{"communityId":"x"}}"#,
            br#"{"result":{}}"#,
            br#"{"result":null}"#,
            b"[3]",
            b"",
        ] {
            assert!(
                parse_channel_community(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

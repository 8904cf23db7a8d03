//! Strict parsing of the state server's replies (`docs/original-system.md` §7.3).
//!
//! The seed split replies on `,` and indexed blindly, so a voice location (`com3,c-12`, which
//! itself holds a comma) was misread and `null,null` crashed later on. Here every reply must have
//! exactly the documented shape; anything else is an error the caller sees as "state server
//! unavailable", never a panic and never a half-understood value.

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow};
use domain::{ChannelId, CommunityId, Location, UserId, VoiceOccupancy};

/// What a `logout` reply says: whose session it was and where they last were. Both are `None`
/// for `null,null`, the answer for a session the state server did not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoggedOut {
    pub(crate) user: Option<UserId>,
    pub(crate) last_location: Option<Location>,
}

/// A `logout` reply: `"{user},{lastLocation}"`, e.g. `1,r-5`, `1,home`, `1,com3,c-12`, or
/// `null,null`.
pub(crate) fn logout(reply: &str) -> anyhow::Result<LoggedOut> {
    let malformed = || {
        anyhow!(
            "malformed `logout` reply {}: expected `<user>,<location>` or `null,null`",
            shown(reply)
        )
    };
    let (user, location) = reply.split_once(',').ok_or_else(malformed)?;
    if user == "null" {
        return if location == "null" {
            Ok(LoggedOut {
                user: None,
                last_location: None,
            })
        } else {
            Err(malformed())
        };
    }
    let user = strict_id(user, UserId::parse).ok_or_else(malformed)?;
    // A known user may have no location any more (the seed's key carries a TTL).
    let last_location = stored_location(location).map_err(|_| malformed())?;
    Ok(LoggedOut {
        user: Some(user),
        last_location,
    })
}

/// A `state` reply: `"{old},{new}"`, e.g. `home,r-5`, `null,r-5`, or `com3,c-12,r-5` when the
/// user was in a voice channel. `new` never holds a comma (it is what we sent), so the reply is
/// split at its last comma, and `new` must be the location we asked for: anything else means the
/// reply does not belong to this request.
pub(crate) fn state(reply: &str, requested: Location) -> anyhow::Result<Option<Location>> {
    let malformed = || {
        anyhow!(
            "malformed `state` reply {}: expected `<previous location>,{requested}`",
            shown(reply)
        )
    };
    let (previous, current) = reply.rsplit_once(',').ok_or_else(malformed)?;
    if current != requested.to_string() {
        return Err(malformed());
    }
    stored_location(previous).map_err(|_| malformed())
}

/// A `before-enter`/`enter` reply: `{"12":["1","4"],"13":[]}`, voice channel ids to the user ids
/// in them, all as decimal strings.
pub(crate) fn occupancy(reply: &str, community: CommunityId) -> anyhow::Result<VoiceOccupancy> {
    let raw: BTreeMap<String, Vec<String>> = serde_json::from_str(reply).with_context(|| {
        format!(
            "malformed voice occupancy reply {}: expected a JSON object of channel ids to lists of user id strings",
            shown(reply)
        )
    })?;
    let mut channels = BTreeMap::new();
    for (channel, users) in raw {
        let channel_id = strict_id(&channel, ChannelId::parse).ok_or_else(|| {
            anyhow!(
                "malformed voice occupancy reply {}: `{channel}` is not a channel id",
                shown(reply)
            )
        })?;
        let users = users
            .iter()
            .map(|user| {
                strict_id(user, UserId::parse).ok_or_else(|| {
                    anyhow!(
                        "malformed voice occupancy reply {}: `{user}` is not a user id",
                        shown(reply)
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        channels.insert(channel_id, users);
    }
    Ok(VoiceOccupancy {
        community,
        channels,
    })
}

/// A location as the state server stores it: `null` (none), `home`, `r-5`, `c-12`, or a voice
/// location `com3,c-12`. A voice location is the channel `c-12` (the domain's channels are text
/// or voice, and channel ids are unique across communities); its community is checked, then
/// dropped.
fn stored_location(label: &str) -> Result<Option<Location>, NotALocation> {
    if label == "null" {
        return Ok(None);
    }
    let label = match label.split_once(',') {
        Some((community, channel)) => {
            let community = community.strip_prefix("com").ok_or(NotALocation)?;
            strict_id(community, CommunityId::parse).ok_or(NotALocation)?;
            if !channel.starts_with("c-") {
                return Err(NotALocation);
            }
            channel
        }
        None => label,
    };
    let location = Location::parse(label).map_err(|_| NotALocation)?;
    // Only the canonical spelling: `Location::parse` forgives `r- 5` and `r-05`.
    if location.to_string() == label {
        Ok(Some(location))
    } else {
        Err(NotALocation)
    }
}

/// The text is not a location the state server could have stored; the caller says which reply.
struct NotALocation;

/// A decimal id in its canonical spelling only: the domain's parsers trim spaces, which a wire
/// format should not.
fn strict_id<T: std::fmt::Display, E>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    let id = parse(text).ok()?;
    (id.to_string() == text).then_some(id)
}

/// The reply as shown in an error: quoted, and cut short so a huge reply does not flood logs.
fn shown(reply: &str) -> String {
    const SHOWN_CHARS: usize = 120;
    if reply.chars().count() <= SHOWN_CHARS {
        format!("{reply:?}")
    } else {
        let head: String = reply.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}… ({} bytes)", reply.len())
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;

    fn known(user: u64, location: Location) -> LoggedOut {
        LoggedOut {
            user: Some(UserId::new(user)),
            last_location: Some(location),
        }
    }

    #[test]
    fn logout_replies_name_the_user_and_their_last_location() {
        assert_eq!(
            logout("1,r-5").expect("valid"),
            known(1, Location::Room(RoomId::new(5)))
        );
        assert_eq!(logout("1,home").expect("valid"), known(1, Location::Home));
        assert_eq!(
            logout("7,c-12").expect("valid"),
            known(7, Location::Channel(ChannelId::new(12)))
        );
    }

    #[test]
    fn a_logout_reply_with_a_voice_location_keeps_the_whole_location() {
        assert_eq!(
            logout("1,com3,c-12").expect("valid"),
            known(1, Location::Channel(ChannelId::new(12)))
        );
    }

    #[test]
    fn null_null_is_the_logout_of_an_unknown_session() {
        assert_eq!(
            logout("null,null").expect("valid"),
            LoggedOut {
                user: None,
                last_location: None
            }
        );
        assert_eq!(logout("1,null").expect("valid").last_location, None);
    }

    #[test]
    fn malformed_logout_replies_are_errors() {
        for bad in [
            "",
            "반환메세지",
            "1",
            "null,r-5",
            "x,home",
            "0,home",
            " 1,home",
            "1,r-05",
            "1,r- 5",
            "1,com3,r-5",
            "1,com,c-12",
            "1,comx,c-12",
            "1,com3,c-12,c-13",
            "1,home,",
            "1,Home",
        ] {
            let error = logout(bad).expect_err(bad);
            assert!(
                error.to_string().contains("malformed `logout` reply"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_state_reply_gives_the_previous_location() {
        let r5 = Location::Room(RoomId::new(5));
        assert_eq!(state("home,r-5", r5).expect("valid"), Some(Location::Home));
        assert_eq!(state("null,r-5", r5).expect("valid"), None);
        assert_eq!(
            state("com3,c-12,r-5", r5).expect("valid"),
            Some(Location::Channel(ChannelId::new(12)))
        );
        assert_eq!(state("r-5,home", Location::Home).expect("valid"), Some(r5));
    }

    #[test]
    fn a_state_reply_that_does_not_end_with_the_requested_location_is_an_error() {
        let r5 = Location::Room(RoomId::new(5));
        for bad in [
            "home,r-6",
            "r-5",
            "home",
            "",
            "home,r-5 ",
            "home,,r-5",
            "반환메세지",
        ] {
            let error = state(bad, r5).expect_err(bad);
            assert!(
                error.to_string().contains("malformed `state` reply"),
                "{error}"
            );
        }
    }

    #[test]
    fn an_occupancy_reply_maps_voice_channels_to_their_users() {
        let occupancy =
            occupancy(r#"{"12":["1","4"],"13":[]}"#, CommunityId::new(3)).expect("valid");
        assert_eq!(occupancy.community, CommunityId::new(3));
        assert_eq!(
            occupancy.channels,
            BTreeMap::from([
                (ChannelId::new(12), vec![UserId::new(1), UserId::new(4)]),
                (ChannelId::new(13), vec![]),
            ])
        );
        assert!(
            super::occupancy("{}", CommunityId::new(3))
                .expect("valid")
                .channels
                .is_empty()
        );
    }

    #[test]
    fn malformed_occupancy_replies_are_errors() {
        for bad in [
            "",
            "반환메세지",
            "[]",
            "null",
            r#"{"12":"1"}"#,
            r#"{"12":[1]}"#,
            r#"{"c-12":["1"]}"#,
            r#"{"12":["x"]}"#,
            r#"{"0":[]}"#,
            r#"{"12":["01"]}"#,
            r#"{"12":[]} trailing"#,
        ] {
            let error = occupancy(bad, CommunityId::new(3)).expect_err(bad);
            assert!(
                error
                    .to_string()
                    .contains("malformed voice occupancy reply"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_long_reply_is_cut_short_in_errors() {
        let reply = "x".repeat(10_000);
        let message = logout(&reply).expect_err("malformed").to_string();
        assert!(message.len() < 300, "{message}");
        assert!(message.contains("10000 bytes"), "{message}");
    }
}

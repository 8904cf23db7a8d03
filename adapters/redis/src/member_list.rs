//! The seed's member-cache value: what Spring's `GenericJackson2JsonRedisSerializer` wrote for a
//! `CommunityFeignResponse.UserIdResponse` (`docs/original-system.md` §6.1).

use domain::UserId;
use serde_json::Value;

/// The Java class the seed's chat server reads the value back as.
const SEED_CLASS: &str =
    "com.example.chatserver.dto.response.CommunityFeignResponse$UserIdResponse";

/// `{"@class":"…UserIdResponse","members":[1,2,3]}`.
pub(crate) fn encode(members: &[UserId]) -> String {
    let ids: Vec<u64> = members.iter().map(|member| member.get()).collect();
    serde_json::json!({ "@class": SEED_CLASS, "members": ids }).to_string()
}

/// The members of a stored value; `None` when it is not a member list (then it is refetched
/// and overwritten). Reads the plain form above, Jackson's typed-collection form
/// (`"members":["java.util.ArrayList",[1,2,3]]`), and ids written as strings.
pub(crate) fn decode(text: &str) -> Option<Vec<UserId>> {
    let value: Value = serde_json::from_str(text).ok()?;
    let items = match value.get("members")? {
        Value::Array(items) => match items.as_slice() {
            [Value::String(class), Value::Array(inner)] if class.starts_with("java.") => inner,
            _ => items,
        },
        _ => return None,
    };
    items.iter().map(member).collect()
}

fn member(item: &Value) -> Option<UserId> {
    match item {
        Value::Number(number) => number.as_u64().filter(|id| *id > 0).map(UserId::new),
        Value::String(text) => UserId::parse(text).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(ids: &[u64]) -> Vec<UserId> {
        ids.iter().copied().map(UserId::new).collect()
    }

    #[test]
    fn the_value_is_the_seeds_json_and_reads_back() {
        let text = encode(&users(&[1, 2, 3]));
        assert_eq!(
            text,
            r#"{"@class":"com.example.chatserver.dto.response.CommunityFeignResponse$UserIdResponse","members":[1,2,3]}"#
        );
        assert_eq!(decode(&text), Some(users(&[1, 2, 3])));
    }

    #[test]
    fn the_seeds_variants_are_read() {
        assert_eq!(
            decode(r#"{"@class":"x","members":["java.util.ArrayList",[4,5]]}"#),
            Some(users(&[4, 5]))
        );
        assert_eq!(decode(r#"{"members":["6","7"]}"#), Some(users(&[6, 7])));
        assert_eq!(decode(r#"{"members":[]}"#), Some(Vec::new()));
    }

    #[test]
    fn anything_else_is_not_a_member_list() {
        for text in [
            "",
            "[1,2]",
            r#"{"members":null}"#,
            r#"{"members":[1,"x"]}"#,
            r#"{"members":[0]}"#,
            r#"{"members":[-1]}"#,
            r#"{"other":[1]}"#,
        ] {
            assert_eq!(decode(text), None, "{text:?} was accepted");
        }
    }
}

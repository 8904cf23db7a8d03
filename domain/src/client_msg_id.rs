//! The key a client gives a send so that a repeat of it (a retry after a lost answer)
//! is recognised and answered with the message the first one stored.

use std::fmt;

/// Longest key accepted, in characters.
const MAX_LEN: usize = 64;

/// Why a client's message key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientMsgIdError {
    /// No characters.
    #[error("client-msg-id must not be empty")]
    Empty,
    /// More than 64 characters.
    #[error("client-msg-id has {0} characters; at most 64 are allowed")]
    TooLong(usize),
    /// A space, control or non-ASCII character.
    #[error("client-msg-id may hold only visible ASCII characters (no spaces)")]
    NotVisibleAscii,
}

/// A client's key for one message: 1 to 64 visible ASCII characters (`!` to `~`), chosen
/// by the client (a UUID, a counter). Unique per author and room: the same key from
/// another author or in another room is another message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// Accepts the key as the client sent it, unchanged (no trimming: a key is compared
    /// byte for byte).
    pub fn parse(text: &str) -> Result<Self, ClientMsgIdError> {
        if text.is_empty() {
            return Err(ClientMsgIdError::Empty);
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ClientMsgIdError::NotVisibleAscii);
        }
        // All ASCII by now, so bytes are characters.
        if text.len() > MAX_LEN {
            return Err(ClientMsgIdError::TooLong(text.len()));
        }
        Ok(Self(text.to_owned()))
    }

    /// The key as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_or_any_visible_ascii_up_to_64_characters_is_a_key() {
        for good in [
            "6f1c2a9b-1e8a-4d4c-b6a7-0123456789ab",
            "1",
            "a:b/c?d=e&f#~!",
            &"x".repeat(64),
        ] {
            assert_eq!(
                ClientMsgId::parse(good).map(|k| k.as_str().to_owned()),
                Ok(good.to_owned())
            );
        }
    }

    #[test]
    fn an_empty_long_spaced_or_non_ascii_key_is_refused_with_its_reason() {
        assert_eq!(ClientMsgId::parse(""), Err(ClientMsgIdError::Empty));
        assert_eq!(
            ClientMsgId::parse(&"x".repeat(65)),
            Err(ClientMsgIdError::TooLong(65))
        );
        for bad in ["a b", " a", "a\n", "a\u{7f}", "é", "a\u{0}"] {
            assert_eq!(
                ClientMsgId::parse(bad),
                Err(ClientMsgIdError::NotVisibleAscii),
                "{bad:?}"
            );
        }
    }
}

//! The text of a message and its rules.

/// Why a message text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageBodyError {
    /// Nothing but whitespace.
    #[error("message content is empty")]
    Empty,
    /// More characters than [`MessageBody::MAX_CHARS`].
    #[error("message content has {actual} characters, the maximum is {max}")]
    TooLong {
        /// Characters received.
        actual: usize,
        /// Characters allowed.
        max: usize,
    },
}

/// Message text: non-empty after trimming, at most [`MessageBody::MAX_CHARS`] characters.
/// Stored as sent (inner whitespace and the seed's `<~inviting~>` markers are kept);
/// only surrounding whitespace is trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Longest text accepted, in Unicode scalar values.
    pub const MAX_CHARS: usize = 4000;

    /// Validates a message text.
    pub fn parse(text: &str) -> Result<Self, MessageBodyError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(MessageBodyError::Empty);
        }
        let actual = trimmed.chars().count();
        if actual > Self::MAX_CHARS {
            return Err(MessageBodyError::TooLong {
                actual,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_of_only_whitespace_is_empty() {
        assert_eq!(MessageBody::parse(" \n\t "), Err(MessageBodyError::Empty));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_and_inner_text_kept() {
        let body = MessageBody::parse("  hi  there \n").expect("valid");
        assert_eq!(body.as_str(), "hi  there");
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let at_limit = "한".repeat(MessageBody::MAX_CHARS);
        assert!(MessageBody::parse(&at_limit).is_ok());
        let over = "a".repeat(MessageBody::MAX_CHARS + 1);
        assert_eq!(
            MessageBody::parse(&over),
            Err(MessageBodyError::TooLong {
                actual: MessageBody::MAX_CHARS + 1,
                max: MessageBody::MAX_CHARS
            })
        );
    }
}

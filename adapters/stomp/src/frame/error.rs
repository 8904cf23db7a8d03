//! Why a frame could not be decoded.

/// A decoding failure. Messages are lower-case and free of internal detail so they can be sent
/// verbatim to the client in an ERROR frame's `message` header.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The command line is not a STOMP command (shown truncated, since it is client input).
    #[error("unknown command '{0}'")]
    UnknownCommand(String),
    #[error("command or header is not valid utf-8")]
    InvalidUtf8,
    #[error("header line has no ':' separator")]
    MissingColon,
    #[error("header name is empty")]
    EmptyHeaderName,
    /// The undefined escape sequence as received, e.g. `\t`.
    #[error("undefined escape sequence '{0}' in header")]
    InvalidEscape(String),
    #[error("content-length is not a valid octet count")]
    InvalidContentLength,
    #[error("body is not followed by a nul octet at the position content-length announced")]
    MissingNulAfterBody,
    #[error("frame is larger than {limit} bytes")]
    FrameTooLarge { limit: usize },
    #[error("body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("frame has more than {limit} headers")]
    TooManyHeaders { limit: usize },
    #[error("header line is longer than {limit} bytes")]
    HeaderTooLong { limit: usize },
}

#[cfg(test)]
mod tests {
    use super::FrameError;

    #[test]
    fn messages_are_lower_case_and_name_the_limit() {
        assert_eq!(
            FrameError::FrameTooLarge { limit: 10 }.to_string(),
            "frame is larger than 10 bytes"
        );
        assert_eq!(
            FrameError::InvalidEscape("\\t".into()).to_string(),
            "undefined escape sequence '\\t' in header"
        );
    }
}

//! STOMP 1.0/1.1/1.2 frame codec: bytes from WebSocket messages in, [`Frame`]s and heart-beats
//! out, and frames back to bytes.
//!
//! It is deliberately pure (no I/O, no async, no clock) so the session layer owns transport and
//! timing, and every rule of the wire format can be tested byte by byte.
//!
//! Decoding is incremental because STOMP frames and WebSocket messages are not aligned: one
//! message may carry several frames, part of a frame, or only heart-beat EOLs. [`Limits`] are
//! enforced while a frame is still incomplete, so a client cannot make the server buffer an
//! endless frame.

mod command;
mod decoder;
mod encoder;
mod error;
mod escape;
mod limits;
mod version;

use bytes::Bytes;

pub use command::Command;
pub use decoder::{Decoded, Decoder};
pub use encoder::{encode, to_bytes};
pub use error::FrameError;
pub use limits::Limits;
pub use version::Version;

/// One STOMP frame, with header names and values already unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub command: Command,
    /// In wire order, repeats included: only the first of a repeated header counts, but keeping
    /// them all means a frame re-encodes to what was received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Frame {
    #[must_use]
    pub fn new(command: Command) -> Self {
        Self {
            command,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Appends a header, even if one with the same name is already present.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// First occurrence wins (STOMP 1.2 "repeated header entries": only the first is used).
    /// Names are compared exactly: STOMP header names are case-sensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{Command, Frame};

    #[test]
    fn with_header_appends_headers_in_order() {
        let frame = Frame::new(Command::Send)
            .with_header("b", "1")
            .with_header("a", "2");

        assert_eq!(
            frame.headers,
            vec![("b".into(), "1".into()), ("a".into(), "2".into())]
        );
    }

    #[test]
    fn header_returns_the_first_of_repeated_entries() {
        let frame = Frame::new(Command::Send)
            .with_header("foo", "first")
            .with_header("foo", "second");

        assert_eq!(frame.header("foo"), Some("first"));
    }

    #[test]
    fn header_names_are_matched_case_sensitively() {
        let frame = Frame::new(Command::Send).with_header("Destination", "/q");

        assert_eq!(frame.header("destination"), None);
    }

    #[test]
    fn a_new_frame_has_no_headers_and_an_empty_body() {
        let frame = Frame::new(Command::Disconnect);

        assert!(frame.headers.is_empty());
        assert!(frame.body.is_empty());
    }
}

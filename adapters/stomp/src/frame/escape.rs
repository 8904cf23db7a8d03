//! Header escaping, which differs per version and is skipped for the handshake frames.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use super::{Command, FrameError, Version};

/// Which escaping applies to the headers of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Escaping {
    /// STOMP 1.0, and CONNECT/STOMP/CONNECTED in every version: octets pass through untouched.
    Verbatim,
    /// STOMP 1.1: `\n`, `\c` and `\\`.
    V1_1,
    /// STOMP 1.2: the 1.1 escapes plus `\r`.
    V1_2,
}

impl Escaping {
    pub(super) fn for_frame(command: Command, version: Version) -> Self {
        if command.is_handshake() {
            return Self::Verbatim;
        }
        match version {
            Version::V1_0 => Self::Verbatim,
            Version::V1_1 => Self::V1_1,
            Version::V1_2 => Self::V1_2,
        }
    }

    /// Borrows when there is nothing to unescape, which is the common case.
    pub(super) fn unescape(self, raw: &str) -> Result<Cow<'_, str>, FrameError> {
        if self == Self::Verbatim || !raw.contains('\\') {
            return Ok(Cow::Borrowed(raw));
        }
        let mut unescaped = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                unescaped.push(c);
                continue;
            }
            let escaped = chars.next();
            let decoded = self.decode_escape(escaped).ok_or_else(|| {
                FrameError::InvalidEscape(
                    escaped.map_or_else(|| "\\".to_owned(), |c| format!("\\{c}")),
                )
            })?;
            unescaped.push(decoded);
        }
        Ok(Cow::Owned(unescaped))
    }

    /// The spec makes undefined escapes a fatal error rather than passing them through, so that
    /// future escapes cannot be silently misread.
    fn decode_escape(self, escaped: Option<char>) -> Option<char> {
        match escaped? {
            'n' => Some('\n'),
            'c' => Some(':'),
            '\\' => Some('\\'),
            'r' if self == Self::V1_2 => Some('\r'),
            _ => None,
        }
    }

    pub(super) fn escape_into(self, raw: &str, dst: &mut BytesMut) {
        if self == Self::Verbatim {
            dst.put_slice(raw.as_bytes());
            return;
        }
        // Every escaped character is ASCII, and no byte of a multi-byte UTF-8 sequence is, so
        // working on bytes cannot split a character.
        for &byte in raw.as_bytes() {
            match self.encode_escape(byte) {
                Some(sequence) => dst.put_slice(sequence),
                None => dst.put_u8(byte),
            }
        }
    }

    fn encode_escape(self, byte: u8) -> Option<&'static [u8]> {
        match byte {
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b':' => Some(b"\\c"),
            b'\r' if self == Self::V1_2 => Some(b"\\r"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::{Command, Escaping, FrameError, Version};

    fn escaped(escaping: Escaping, raw: &str) -> BytesMut {
        let mut dst = BytesMut::new();
        escaping.escape_into(raw, &mut dst);
        dst
    }

    #[test]
    fn handshake_frames_are_verbatim_in_every_version() {
        for version in [Version::V1_0, Version::V1_1, Version::V1_2] {
            for command in [Command::Connect, Command::Stomp, Command::Connected] {
                assert_eq!(Escaping::for_frame(command, version), Escaping::Verbatim);
            }
        }
    }

    #[test]
    fn other_frames_escape_according_to_the_version() {
        assert_eq!(
            Escaping::for_frame(Command::Send, Version::V1_0),
            Escaping::Verbatim
        );
        assert_eq!(
            Escaping::for_frame(Command::Send, Version::V1_1),
            Escaping::V1_1
        );
        assert_eq!(
            Escaping::for_frame(Command::Message, Version::V1_2),
            Escaping::V1_2
        );
    }

    #[test]
    fn stomp_1_2_unescapes_cr_lf_colon_and_backslash() {
        assert_eq!(
            Escaping::V1_2.unescape("a\\rb\\nc\\cd\\\\e").unwrap(),
            "a\rb\nc:d\\e"
        );
    }

    #[test]
    fn stomp_1_1_has_no_carriage_return_escape() {
        assert_eq!(
            Escaping::V1_1.unescape("a\\rb"),
            Err(FrameError::InvalidEscape("\\r".into()))
        );
    }

    #[test]
    fn undefined_escapes_are_rejected() {
        assert_eq!(
            Escaping::V1_2.unescape("a\\tb"),
            Err(FrameError::InvalidEscape("\\t".into()))
        );
    }

    #[test]
    fn a_trailing_lone_backslash_is_rejected() {
        assert_eq!(
            Escaping::V1_2.unescape("ab\\"),
            Err(FrameError::InvalidEscape("\\".into()))
        );
    }

    #[test]
    fn verbatim_leaves_backslashes_alone_in_both_directions() {
        assert_eq!(Escaping::Verbatim.unescape("a\\tb").unwrap(), "a\\tb");
        assert_eq!(&escaped(Escaping::Verbatim, "a:b\\")[..], b"a:b\\");
    }

    #[test]
    fn stomp_1_2_escapes_cr_lf_colon_and_backslash() {
        assert_eq!(
            &escaped(Escaping::V1_2, "\r\n:\\é")[..],
            "\\r\\n\\c\\\\é".as_bytes()
        );
    }

    #[test]
    fn stomp_1_1_leaves_carriage_returns_unescaped() {
        assert_eq!(&escaped(Escaping::V1_1, "\r\n:\\")[..], b"\r\\n\\c\\\\");
    }

    #[test]
    fn escaping_then_unescaping_gives_back_the_original() {
        let raw = "a:b\\c\nd\re";
        for escaping in [Escaping::V1_1, Escaping::V1_2] {
            let wire = escaped(escaping, raw);
            let wire = std::str::from_utf8(&wire).unwrap();

            assert_eq!(escaping.unescape(wire).unwrap(), raw);
        }
    }
}

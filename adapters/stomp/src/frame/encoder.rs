//! Serialising frames to the wire.

use bytes::{BufMut, Bytes, BytesMut};

use super::escape::Escaping;
use super::{Frame, Version};

/// Encode a frame for the given version (escaping headers per that version, never for
/// CONNECT/STOMP/CONNECTED), adding nothing implicitly except what the caller put in headers;
/// terminates with NUL.
///
/// Callers own framing correctness: a body containing NUL needs a `content-length` header, and
/// headers of handshake frames (or of any 1.0 frame) cannot carry CR, LF or, in names, ':'.
pub fn encode(frame: &Frame, version: Version, dst: &mut BytesMut) {
    let escaping = Escaping::for_frame(frame.command, version);
    dst.reserve(unescaped_len(frame));
    dst.put_slice(frame.command.as_str().as_bytes());
    dst.put_u8(b'\n');
    for (name, value) in &frame.headers {
        escaping.escape_into(name, dst);
        dst.put_u8(b':');
        escaping.escape_into(value, dst);
        dst.put_u8(b'\n');
    }
    dst.put_u8(b'\n');
    dst.put_slice(&frame.body);
    dst.put_u8(0);
}

/// Convenience: `encode` into a fresh `Bytes`.
#[must_use]
pub fn to_bytes(frame: &Frame, version: Version) -> Bytes {
    let mut dst = BytesMut::new();
    encode(frame, version, &mut dst);
    dst.freeze()
}

/// A lower bound on the encoded size, so most frames are written with a single allocation.
fn unescaped_len(frame: &Frame) -> usize {
    let headers: usize = frame
        .headers
        .iter()
        .map(|(name, value)| name.len() + value.len() + 2)
        .sum();
    frame.command.as_str().len() + 1 + headers + 1 + frame.body.len() + 1
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::super::{Command, Decoded, Decoder, Frame, Limits, Version};
    use super::{encode, to_bytes};

    fn round_trip(frame: &Frame, version: Version) -> Frame {
        let mut decoder = Decoder::new(Limits::default());
        decoder.set_version(version);
        let mut buf = BytesMut::from(&to_bytes(frame, version)[..]);

        let output = decoder.decode(&mut buf).unwrap();

        assert!(buf.is_empty(), "left over: {buf:?}");
        match output {
            Some(Decoded::Frame(frame)) => frame,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn a_frame_is_written_as_command_headers_blank_line_body_and_nul() {
        let frame = Frame::new(Command::Send)
            .with_header("destination", "/queue/a")
            .with_header("content-type", "text/plain")
            .with_body("hello");

        assert_eq!(
            &to_bytes(&frame, Version::V1_2)[..],
            b"SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello\0"
        );
    }

    #[test]
    fn encoding_adds_no_headers_of_its_own() {
        let frame = Frame::new(Command::Message).with_body("body");

        assert_eq!(&to_bytes(&frame, Version::V1_2)[..], b"MESSAGE\n\nbody\0");
    }

    #[test]
    fn encode_appends_to_what_is_already_in_the_buffer() {
        let mut dst = BytesMut::from(&b"\n"[..]);

        encode(&Frame::new(Command::Receipt), Version::V1_2, &mut dst);

        assert_eq!(&dst[..], b"\nRECEIPT\n\n\0");
    }

    #[test]
    fn stomp_1_2_escapes_cr_lf_colon_and_backslash_in_names_and_values() {
        let frame = Frame::new(Command::Message).with_header("a:b", "c\r\nd\\");

        assert_eq!(
            &to_bytes(&frame, Version::V1_2)[..],
            b"MESSAGE\na\\cb:c\\r\\nd\\\\\n\n\0"
        );
    }

    #[test]
    fn stomp_1_1_escapes_everything_but_carriage_return() {
        let frame = Frame::new(Command::Message).with_header("a:b", "c\r\nd\\");

        assert_eq!(
            &to_bytes(&frame, Version::V1_1)[..],
            b"MESSAGE\na\\cb:c\r\\nd\\\\\n\n\0"
        );
    }

    #[test]
    fn stomp_1_0_escapes_nothing() {
        let frame = Frame::new(Command::Message).with_header("a", "b:c\\d");

        assert_eq!(
            &to_bytes(&frame, Version::V1_0)[..],
            b"MESSAGE\na:b:c\\d\n\n\0"
        );
    }

    #[test]
    fn connect_and_connected_headers_are_never_escaped() {
        let connect = Frame::new(Command::Connect).with_header("passcode", "a:b\\c");
        let connected = Frame::new(Command::Connected).with_header("server", "x:y\\z");

        assert_eq!(
            &to_bytes(&connect, Version::V1_2)[..],
            b"CONNECT\npasscode:a:b\\c\n\n\0"
        );
        assert_eq!(
            &to_bytes(&connected, Version::V1_1)[..],
            b"CONNECTED\nserver:x:y\\z\n\n\0"
        );
    }

    #[test]
    fn stomp_1_2_frames_round_trip() {
        let frame = Frame::new(Command::Send)
            .with_header("destination", "/queue/a")
            .with_header("we:ird\\name", "line\none\r\ntwo: \\ ")
            .with_header("destination", "/queue/ignored")
            .with_header("content-length", "5")
            .with_body(&b"a\0b\0c"[..]);

        assert_eq!(round_trip(&frame, Version::V1_2), frame);
    }

    #[test]
    fn stomp_1_1_frames_round_trip() {
        let frame = Frame::new(Command::Message)
            .with_header("subscription", "sub:0")
            .with_header("note", "back\\slash\nnew line")
            .with_body("plain body");

        assert_eq!(round_trip(&frame, Version::V1_1), frame);
    }

    #[test]
    fn connect_frames_round_trip_with_colons_and_backslashes() {
        let frame = Frame::new(Command::Connect)
            .with_header("accept-version", "1.1,1.2")
            .with_header("passcode", "p:a\\ss");

        assert_eq!(round_trip(&frame, Version::V1_2), frame);
    }
}

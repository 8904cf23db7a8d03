//! The incremental decoder: a small state machine that resumes where the previous call stopped.

mod body;
mod head;
#[cfg(test)]
mod tests;

use std::mem;
use std::ops::Range;

use bytes::{Buf, BytesMut};

use self::body::BodyParser;
use self::head::{Head, HeadParser};
use super::{Frame, FrameError, Limits, Version};

/// What one call to [`Decoder::decode`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Frame(Frame),
    /// One EOL between frames. A run of EOLs yields one `HeartBeat` per EOL, never collapsed,
    /// so every call consumes a predictable amount of input.
    HeartBeat,
}

/// Incremental decoder: bytes arrive in arbitrary chunks (a WebSocket message may hold several
/// frames, part of a frame, or only heart-beat EOLs).
///
/// Pass the same buffer on every call, only ever appending to it: bytes of an incomplete frame
/// stay in the buffer, and the decoder remembers how far it has already parsed them so byte-wise
/// delivery costs no rescanning.
///
/// After an error the decoder is back between frames but the offending bytes are still in the
/// buffer. STOMP has no way to resynchronise, so the session should send an ERROR frame and close.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    version: Version,
    state: State,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    BetweenFrames,
    Head(HeadParser),
    Body {
        head: Head,
        body: BodyParser,
    },
}

/// Outcome of one state transition.
enum Step {
    Continue(State),
    NeedMore(State),
    Emit(Decoded),
}

impl Decoder {
    /// Starts at 1.2 so that a session that never negotiates still gets the strictest parsing;
    /// CONNECT, STOMP and CONNECTED headers are never unescaped whatever the version.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            version: Version::V1_2,
            state: State::default(),
        }
    }

    /// Applies the negotiated version to the header escaping of the frames that follow.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Ok(None) = need more bytes. Consumes what it returns from `buf`.
    ///
    /// # Errors
    ///
    /// A [`FrameError`] when the buffered bytes break the STOMP grammar or exceed the [`Limits`];
    /// limits are checked as soon as the buffered part of a frame exceeds them.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, FrameError> {
        loop {
            // Taking the state out means any early `?` return leaves the decoder between frames.
            let state = mem::take(&mut self.state);
            match self.step(state, buf)? {
                Step::Continue(next) => self.state = next,
                Step::NeedMore(next) => {
                    self.state = next;
                    return Ok(None);
                }
                Step::Emit(decoded) => return Ok(Some(decoded)),
            }
        }
    }

    fn step(&self, state: State, buf: &mut BytesMut) -> Result<Step, FrameError> {
        Ok(match state {
            State::BetweenFrames => match FrameStart::of(buf) {
                FrameStart::Undecided => Step::NeedMore(State::BetweenFrames),
                FrameStart::HeartBeat { eol_len } => {
                    buf.advance(eol_len);
                    Step::Emit(Decoded::HeartBeat)
                }
                FrameStart::Command => Step::Continue(State::Head(HeadParser::default())),
            },
            State::Head(mut parser) => match parser.advance(buf, &self.limits, self.version)? {
                Some(head) => {
                    let content_length = head.frame.header("content-length");
                    let body = BodyParser::new(head.len, content_length, &self.limits)?;
                    Step::Continue(State::Body { head, body })
                }
                None => Step::NeedMore(State::Head(parser)),
            },
            State::Body { head, mut body } => match body.advance(buf, &self.limits)? {
                Some(range) => Step::Emit(Decoded::Frame(take_frame(buf, head, range))),
                None => Step::NeedMore(State::Body { head, body }),
            },
        })
    }
}

/// What the bytes between frames start with.
enum FrameStart {
    /// Empty, or a lone CR that may yet become a CRLF heart-beat.
    Undecided,
    HeartBeat {
        eol_len: usize,
    },
    Command,
}

impl FrameStart {
    fn of(buf: &[u8]) -> Self {
        match buf {
            [] | [b'\r'] => Self::Undecided,
            [b'\n', ..] => Self::HeartBeat { eol_len: 1 },
            [b'\r', b'\n', ..] => Self::HeartBeat { eol_len: 2 },
            _ => Self::Command,
        }
    }
}

/// Splits the finished frame, through its NUL, off the front of `buf`. The body shares the
/// buffer's allocation instead of being copied.
fn take_frame(buf: &mut BytesMut, head: Head, body: Range<usize>) -> Frame {
    let wire = buf.split_to(body.end + 1).freeze();
    Frame {
        body: wire.slice(body),
        ..head.frame
    }
}

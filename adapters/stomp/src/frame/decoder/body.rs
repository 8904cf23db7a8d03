//! Delimiting a frame's body: by `content-length` when given, otherwise at the first NUL.

use std::ops::Range;

use super::super::{FrameError, Limits};

/// Offsets are relative to the start of the frame, which is the start of the caller's buffer.
#[derive(Debug)]
pub(super) enum BodyParser {
    /// `content-length` says how many octets precede the NUL, so the body may contain NULs.
    Sized { start: usize, len: usize },
    /// The first NUL ends the body; `scanned` spares re-searching bytes on every call.
    NulTerminated { start: usize, scanned: usize },
}

impl BodyParser {
    pub(super) fn new(
        start: usize,
        content_length: Option<&str>,
        limits: &Limits,
    ) -> Result<Self, FrameError> {
        let Some(content_length) = content_length else {
            return Ok(Self::NulTerminated {
                start,
                scanned: start,
            });
        };
        let len = parse_content_length(content_length)?;
        // Refusing on the announcement, before any body byte arrives, means a body that will be
        // rejected anyway is never buffered.
        limits.check_body(len)?;
        limits.check_frame(start.saturating_add(len).saturating_add(1))?;
        Ok(Self::Sized { start, len })
    }

    /// The body's range in `buf`, once the body and its terminating NUL are buffered.
    pub(super) fn advance(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<Range<usize>>, FrameError> {
        match self {
            Self::Sized { start, len } => {
                let end = start.saturating_add(*len);
                match buf.get(end) {
                    None => Ok(None),
                    Some(0) => Ok(Some(*start..end)),
                    Some(_) => Err(FrameError::MissingNulAfterBody),
                }
            }
            Self::NulTerminated { start, scanned } => {
                let unscanned = buf.get(*scanned..).unwrap_or_default();
                if let Some(nul_offset) = unscanned.iter().position(|&byte| byte == 0) {
                    let end = *scanned + nul_offset;
                    limits.check_body(end - *start)?;
                    limits.check_frame(end + 1)?;
                    return Ok(Some(*start..end));
                }
                *scanned = (*scanned).max(buf.len());
                // Checked on every call so that a body streamed without a NUL fails as soon as
                // it is too long, instead of being buffered forever.
                limits.check_body(buf.len().saturating_sub(*start))?;
                limits.check_frame(buf.len())?;
                Ok(None)
            }
        }
    }
}

/// Digits only: `usize::from_str` would also accept a leading `+`, which is not an octet count.
fn parse_content_length(value: &str) -> Result<usize, FrameError> {
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FrameError::InvalidContentLength);
    }
    value.parse().map_err(|_| FrameError::InvalidContentLength)
}

//! Incremental parsing of a frame's command line and header lines.

use std::mem;
use std::str;

use super::super::escape::Escaping;
use super::super::{Command, Frame, FrameError, Limits, Version};

/// How much of an unknown command is echoed back: enough to recognise, too little to abuse.
const SHOWN_COMMAND_BYTES: usize = 32;

/// A frame whose command and headers are complete; its body is still to be delimited.
#[derive(Debug)]
pub(super) struct Head {
    /// Has an empty body until the body is known.
    pub(super) frame: Frame,
    /// Bytes from the start of the command line through the blank line: where the body starts.
    pub(super) len: usize,
}

/// Resumable scan over a head. Complete lines are parsed as soon as their EOL arrives, so errors
/// surface early and nothing is parsed twice. Offsets are relative to the start of the frame,
/// which is the start of the caller's buffer.
#[derive(Debug, Default)]
pub(super) struct HeadParser {
    command: Option<Command>,
    headers: Vec<(String, String)>,
    /// First byte of the line being scanned.
    line_start: usize,
    /// How far the current line has already been searched for its LF.
    scanned: usize,
}

impl HeadParser {
    pub(super) fn advance(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        version: Version,
    ) -> Result<Option<Head>, FrameError> {
        loop {
            let unscanned = buf.get(self.scanned..).unwrap_or_default();
            let Some(lf_offset) = unscanned.iter().position(|&byte| byte == b'\n') else {
                self.scanned = self.scanned.max(buf.len());
                self.reject_oversized_partial_line(buf, limits)?;
                return Ok(None);
            };
            let line_end = self.scanned + lf_offset;
            let line = strip_cr(buf.get(self.line_start..line_end).unwrap_or_default());
            let next_line = line_end + 1;
            self.line_start = next_line;
            self.scanned = next_line;

            match self.command {
                None => self.command = Some(parse_command(line)?),
                Some(command) if line.is_empty() => {
                    limits.check_frame(next_line)?;
                    let frame = Frame {
                        headers: mem::take(&mut self.headers),
                        ..Frame::new(command)
                    };
                    return Ok(Some(Head {
                        frame,
                        len: next_line,
                    }));
                }
                Some(command) => {
                    limits.check_header_line(line.len())?;
                    limits.check_header_count(self.headers.len() + 1)?;
                    limits.check_frame(next_line)?;
                    let escaping = Escaping::for_frame(command, version);
                    self.headers.push(parse_header(line, escaping)?);
                }
            }
        }
    }

    /// Judges an incomplete line by what it already holds, so that a client cannot make the
    /// decoder buffer an endless line. A trailing CR is not counted: it may yet start a CRLF.
    fn reject_oversized_partial_line(&self, buf: &[u8], limits: &Limits) -> Result<(), FrameError> {
        let partial = strip_cr(buf.get(self.line_start..).unwrap_or_default());
        match self.command {
            None if partial.len() > Command::MAX_NAME_LEN => return Err(unknown_command(partial)),
            None => {}
            Some(_) => limits.check_header_line(partial.len())?,
        }
        // Everything buffered belongs to this frame: the head has not ended yet.
        limits.check_frame(buf.len())
    }
}

/// EOL is LF or CR LF; the LF has already been cut off.
fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse_command(line: &[u8]) -> Result<Command, FrameError> {
    str::from_utf8(line).map_err(|_| FrameError::InvalidUtf8)?;
    Command::from_bytes(line).ok_or_else(|| unknown_command(line))
}

fn unknown_command(line: &[u8]) -> FrameError {
    let shown = line.get(..SHOWN_COMMAND_BYTES).unwrap_or(line);
    FrameError::UnknownCommand(String::from_utf8_lossy(shown).into_owned())
}

/// Only the first colon separates: values may contain colons. Nothing is trimmed, because the
/// 1.2 spec makes surrounding spaces part of the name or value.
fn parse_header(line: &[u8], escaping: Escaping) -> Result<(String, String), FrameError> {
    let line = str::from_utf8(line).map_err(|_| FrameError::InvalidUtf8)?;
    let (name, value) = line.split_once(':').ok_or(FrameError::MissingColon)?;
    if name.is_empty() {
        return Err(FrameError::EmptyHeaderName);
    }
    Ok((
        escaping.unescape(name)?.into_owned(),
        escaping.unescape(value)?.into_owned(),
    ))
}

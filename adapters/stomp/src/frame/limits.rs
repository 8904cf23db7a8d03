//! Size limits that bound what the decoder will buffer for one frame.

use super::FrameError;

/// Upper bounds on one frame. Sizes count wire bytes: the frame from the first byte of its
/// command through its terminating NUL (heart-beat EOLs before it are not counted), a header
/// line without its EOL and before unescaping, and the body without the NUL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_headers: usize,
    /// One header line.
    pub max_header_bytes: usize,
    /// Keep at or below `max_frame_bytes`: the frame limit caps the body anyway.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            max_headers: 64,
            max_header_bytes: 8 * 1024,
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    pub(super) fn check_frame(&self, len: usize) -> Result<(), FrameError> {
        if len > self.max_frame_bytes {
            return Err(FrameError::FrameTooLarge {
                limit: self.max_frame_bytes,
            });
        }
        Ok(())
    }

    pub(super) fn check_body(&self, len: usize) -> Result<(), FrameError> {
        if len > self.max_body_bytes {
            return Err(FrameError::BodyTooLarge {
                limit: self.max_body_bytes,
            });
        }
        Ok(())
    }

    pub(super) fn check_header_count(&self, count: usize) -> Result<(), FrameError> {
        if count > self.max_headers {
            return Err(FrameError::TooManyHeaders {
                limit: self.max_headers,
            });
        }
        Ok(())
    }

    pub(super) fn check_header_line(&self, len: usize) -> Result<(), FrameError> {
        if len > self.max_header_bytes {
            return Err(FrameError::HeaderTooLong {
                limit: self.max_header_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;

    #[test]
    fn the_default_body_limit_fits_within_the_default_frame_limit() {
        let limits = Limits::default();

        assert_eq!(limits.max_frame_bytes, 65_536);
        assert_eq!(limits.max_headers, 64);
        assert_eq!(limits.max_header_bytes, 8_192);
        assert!(limits.max_body_bytes <= limits.max_frame_bytes);
    }

    #[test]
    fn a_value_exactly_at_a_limit_is_allowed() {
        let limits = Limits::default();

        assert!(limits.check_frame(limits.max_frame_bytes).is_ok());
        assert!(limits.check_frame(limits.max_frame_bytes + 1).is_err());
    }
}

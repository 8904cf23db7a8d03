//! Counting an upload's bytes while it streams, so an oversize upload is stopped as
//! soon as it passes the limit instead of after it was read whole.

use application::ports::outbound::FileStoreError;

/// Bytes seen so far of one upload, against its limit.
#[derive(Debug)]
pub(crate) struct SizeLimit {
    seen: u64,
    max: u64,
}

impl SizeLimit {
    pub(crate) fn new(max: u64) -> Self {
        Self { seen: 0, max }
    }

    /// Counts `chunk`; fails once the total is over the limit.
    pub(crate) fn count(&mut self, chunk: &[u8]) -> Result<(), FileStoreError> {
        self.seen = self
            .seen
            .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if self.seen > self.max {
            Err(FileStoreError::TooLarge {
                max_bytes: self.max,
            })
        } else {
            Ok(())
        }
    }

    /// Bytes counted.
    pub(crate) fn total(&self) -> u64 {
        self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_itself_is_allowed_and_one_byte_more_is_not() {
        let mut limit = SizeLimit::new(4);
        assert!(limit.count(b"ab").is_ok());
        assert!(limit.count(b"cd").is_ok());
        assert!(matches!(
            limit.count(b"e"),
            Err(FileStoreError::TooLarge { max_bytes: 4 })
        ));
    }
}

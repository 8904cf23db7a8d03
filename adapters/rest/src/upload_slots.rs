//! How many uploads each user has in progress on this instance, so one user cannot
//! tie up the server's disk and connections with many slow uploads at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use domain::UserId;

use crate::error::ApiError;

/// The uploads in progress, per user, against the per-user cap.
#[derive(Debug, Clone)]
pub(crate) struct UploadSlots {
    max: usize,
    in_progress: Arc<Mutex<HashMap<UserId, usize>>>,
}

/// One upload in progress; its slot is given back when dropped.
#[derive(Debug)]
pub(crate) struct UploadSlot {
    user: UserId,
    in_progress: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl UploadSlots {
    /// At most `max` (at least 1) uploads per user at once.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            in_progress: Arc::default(),
        }
    }

    /// A slot for one more upload of `user`.
    ///
    /// # Errors
    /// 429 `too_many_uploads` when `user` already has the most uploads in progress.
    pub(crate) fn acquire(&self, user: UserId) -> Result<UploadSlot, ApiError> {
        let mut in_progress = self
            .in_progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = in_progress.entry(user).or_default();
        if *count >= self.max {
            tracing::info!(%user, max = self.max, "upload refused: too many in progress");
            return Err(ApiError::too_many_uploads(format!(
                "at most {} uploads at once; wait for one to finish",
                self.max
            )));
        }
        *count += 1;
        metric_names::uploads_in_progress().increment(1.0);
        Ok(UploadSlot {
            user,
            in_progress: self.in_progress.clone(),
        })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut in_progress = self
            .in_progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = in_progress.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                in_progress.remove(&self.user);
            }
        }
        metric_names::uploads_in_progress().decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_the_cap_and_a_finished_upload_frees_its_slot() {
        let slots = UploadSlots::new(2);
        let alice = UserId::new(1);
        let first = slots.acquire(alice).expect("first");
        let _second = slots.acquire(alice).expect("second");

        assert!(slots.acquire(alice).is_err());
        assert!(
            slots.acquire(UserId::new(2)).is_ok(),
            "others are not limited"
        );
        drop(first);
        assert!(slots.acquire(alice).is_ok());
    }
}

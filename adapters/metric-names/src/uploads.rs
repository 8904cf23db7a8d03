//! File uploads, as the REST adapter admits them.

use metrics::Gauge;

/// Gauge: uploads in progress on this instance.
pub const IN_PROGRESS: &str = "chat_uploads_in_progress";

/// The [`IN_PROGRESS`] gauge.
pub fn uploads_in_progress() -> Gauge {
    metrics::gauge!(IN_PROGRESS)
}

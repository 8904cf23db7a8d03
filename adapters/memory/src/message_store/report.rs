//! The store's size and what it dropped, as the `chat_memory_store_*` metrics.

use metric_names::memory_store::{BYTES, EVICTED, MAX_BYTES, MESSAGES, REASON, REASONS, ROOMS};

use super::held::{Contents, Eviction};

/// Sets the size gauges to what `rooms` holds now and counts what it dropped since the last
/// report. Called with the store locked after every change, so the gauges never go back to an
/// older size.
#[expect(clippy::cast_precision_loss, reason = "gauges of counts and bytes")]
pub(super) fn report(rooms: &mut Contents) {
    metrics::gauge!(MESSAGES).set(rooms.messages() as f64);
    metrics::gauge!(ROOMS).set(rooms.rooms() as f64);
    metrics::gauge!(BYTES).set(rooms.bytes() as f64);
    metrics::gauge!(MAX_BYTES).set(rooms.limits().max_bytes as f64);
    for (reason, count) in Eviction::ALL.into_iter().zip(rooms.take_evicted()) {
        if count > 0 {
            metrics::counter!(EVICTED, REASON => REASONS[reason as usize]).increment(count);
        }
    }
}

//! In-process versions of every outbound port: what embedded mode runs on.
//!
//! Everything lives in this process's memory and is gone after a restart. Locks
//! are `std` mutexes held for a few map operations and never across an `.await`.

mod clock;
mod community_directory;
mod event_bus;
mod ids;
mod message_store;
mod presence_store;
mod rate_limiter;
mod read_markers;
mod state_server;
mod token_buckets;
mod user_directory;

pub use clock::SystemClock;
pub use community_directory::OpenCommunityDirectory;
pub use event_bus::MemoryEventBus;
pub use ids::RandomIds;
pub use message_store::MemoryMessageStore;
pub use presence_store::MemoryPresenceStore;
pub use rate_limiter::TokenBucketLimiter;
pub use read_markers::MemoryReadMarkers;
pub use state_server::MemoryStateServer;
pub use user_directory::ClaimsUserDirectory;

/// Locks a mutex, recovering the data if a panicking thread poisoned it: every
/// critical section here leaves the maps consistent, so the data stays usable.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

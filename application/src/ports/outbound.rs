//! Driven ports: what the use cases need from the outside world.
//!
//! Use cases hold each port as a shared trait object (`Arc<dyn Port>`), so one adapter or
//! another is chosen at start-up without a type parameter or a dispatch enum; the async
//! methods are boxed by `async_trait`, one allocation per call.

mod clock;
mod community_directory;
mod delivery_backlog;
mod delivery_monitor;
mod event_bus;
mod file_store;
mod id_generator;
mod message_store;
mod presence_store;
mod rate_limiter;
mod read_markers;
mod room_broadcaster;
mod session_state_gateway;
mod token_verifier;
mod user_directory;

pub use clock::Clock;
pub use community_directory::{CommunityDirectory, DirectoryError};
pub use delivery_backlog::DeliveryBacklog;
pub use delivery_monitor::{DeliveryMonitor, OrderReport};
pub use event_bus::{BusError, EventBus, EventStream};
pub use file_store::{ByteStream, FileStore, FileStoreError, FileUpload, StoredFile};
pub use id_generator::IdGenerator;
pub use message_store::{
    Appended, ChangedMessage, HistoryOrder, HistoryQuery, MessageStore, RoomActivity, RoomChanges,
    StoreError,
};
pub use presence_store::{ClosedSession, PresenceError, PresenceStore};
pub use rate_limiter::{Admission, LimiterError, Rate, RateLimiter, Rates, RequestKind};
pub use read_markers::{MarkerError, ReadMarkers};
pub use room_broadcaster::RoomBroadcaster;
pub use session_state_gateway::{GatewayError, SessionStateGateway};
pub use token_verifier::{TokenError, TokenVerifier, VerifiedToken};
pub use user_directory::{UserDirectory, UserDirectoryError};

#[cfg(any(test, feature = "mocks"))]
pub use {
    clock::MockClock, community_directory::MockCommunityDirectory,
    delivery_backlog::MockDeliveryBacklog, delivery_monitor::MockDeliveryMonitor,
    event_bus::MockEventBus, file_store::MockFileStore, id_generator::MockIdGenerator,
    message_store::MockMessageStore, presence_store::MockPresenceStore,
    rate_limiter::MockRateLimiter, read_markers::MockReadMarkers,
    room_broadcaster::MockRoomBroadcaster, session_state_gateway::MockSessionStateGateway,
    token_verifier::MockTokenVerifier, user_directory::MockUserDirectory,
};

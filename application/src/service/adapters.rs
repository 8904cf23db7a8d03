//! [`Adapters`]: the driven ports, as `bootstrap` builds them, that [`crate::Chat`] is built over.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::outbound::{
    Clock, CommunityDirectory, DeliveryBacklog, EventBus, FileStore, IdGenerator, MessageStore,
    PresenceStore, RateLimiter, ReadMarkers, RoomBroadcaster, SessionStateGateway, TokenVerifier,
    UserDirectory,
};
use crate::usecases::{ChannelBinding, FileLimits};

/// The driven ports, one shared instance each, as `bootstrap` builds them.
pub struct Adapters {
    /// Durable messages.
    pub store: Arc<dyn MessageStore>,
    /// How far users have read.
    pub markers: Arc<dyn ReadMarkers>,
    /// Fan-out to every instance.
    pub bus: Arc<dyn EventBus>,
    /// Sessions and who is online.
    pub presence: Arc<dyn PresenceStore>,
    /// The external state server.
    pub state: Arc<dyn SessionStateGateway>,
    /// Who belongs where.
    pub directory: Arc<dyn CommunityDirectory>,
    /// Display profiles.
    pub users: Arc<dyn UserDirectory>,
    /// Access tokens.
    pub tokens: Arc<dyn TokenVerifier>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Fresh ids.
    pub ids: Arc<dyn IdGenerator>,
    /// Per-user request allowances.
    pub limiter: Arc<dyn RateLimiter>,
    /// Shared files.
    pub files: Arc<dyn FileStore>,
    /// This instance's subscribers.
    pub broadcaster: Arc<dyn RoomBroadcaster>,
    /// How far behind delivery to this instance's subscribers is.
    pub backlog: Arc<dyn DeliveryBacklog>,
    /// The longest a new message waits for its room's delivery to catch up before it is
    /// refused as overloaded.
    pub publish_patience: Duration,
    /// What uploads may be.
    pub file_limits: FileLimits,
    /// How a channel no authoritative source knows is treated.
    pub channel_binding: ChannelBinding,
}

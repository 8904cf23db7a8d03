//! [`Chat`]: the driving ports implemented over the use cases, built once over the
//! [`Adapters`].
//!
//! One struct per driving port (`service/<port>.rs`) holds the use cases that port calls, and
//! each of its methods is the one call to its use case; nothing forwards to anything else.

mod access;
mod adapters;
mod file_sharing;
mod messaging;
mod navigation;
mod reading;
mod roster;
mod sessions;

use std::sync::Arc;

pub use adapters::Adapters;

use crate::ports::inbound::{
    Access, FileSharing, Messaging, Navigation, Reading, Roster, Sessions,
};

/// Every driving port, each wired once over the same adapters; `bootstrap` hands each
/// inbound adapter the ones it calls.
pub struct Chat {
    /// Tokens, allowances, listen authorization.
    pub access: Arc<dyn Access>,
    /// STOMP sessions.
    pub sessions: Arc<dyn Sessions>,
    /// Posts, replies, edits, deletes, typing.
    pub messaging: Arc<dyn Messaging>,
    /// Locations and voice channels.
    pub navigation: Arc<dyn Navigation>,
    /// History, rooms, unread counts, presence.
    pub reading: Arc<dyn Reading>,
    /// File uploads.
    pub file_sharing: Arc<dyn FileSharing>,
    /// Member lists, channels, voice leaves.
    pub roster: Arc<dyn Roster>,
}

impl Chat {
    /// Builds every use case over the same adapters.
    pub fn new(adapters: &Adapters) -> Self {
        Self {
            access: Arc::new(access::AccessUseCases::new(adapters)),
            sessions: Arc::new(sessions::SessionUseCases::new(adapters)),
            messaging: Arc::new(messaging::MessagingUseCases::new(adapters)),
            navigation: Arc::new(navigation::NavigationUseCases::new(adapters)),
            reading: Arc::new(reading::ReadingUseCases::new(adapters)),
            file_sharing: Arc::new(file_sharing::FileSharingUseCases::new(adapters)),
            roster: Arc::new(roster::RosterUseCases::new(adapters)),
        }
    }
}

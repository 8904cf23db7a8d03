//! [`ChatPorts`]: the driving ports the REST API calls.

use std::sync::Arc;

use application::ports::inbound::{Access, FileSharing, Reading, Roster};

/// The parts of the chat the REST API calls, each shared with the other inbound adapters.
#[derive(Clone)]
pub struct ChatPorts {
    /// Every operation: the caller's token and allowance.
    pub access: Arc<dyn Access>,
    /// `/api/v1` and the seed's history and unread counts.
    pub reading: Arc<dyn Reading>,
    /// Uploads.
    pub file_sharing: Arc<dyn FileSharing>,
    /// The seed's endpoints the app's other services call.
    pub roster: Arc<dyn Roster>,
}

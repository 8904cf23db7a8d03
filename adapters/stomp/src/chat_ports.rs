//! [`ChatPorts`]: the driving ports a STOMP session calls.

use std::sync::Arc;

use application::ports::inbound::{Access, Messaging, Navigation, Reading, Sessions};

/// The parts of the chat a STOMP session calls, each shared with the other inbound adapters.
#[derive(Clone)]
pub struct ChatPorts {
    /// The CONNECT token, every frame's allowance, subscriptions.
    pub access: Arc<dyn Access>,
    /// Opening and closing the user's session.
    pub sessions: Arc<dyn Sessions>,
    /// Posts, replies, edits, deletes, typing.
    pub messaging: Arc<dyn Messaging>,
    /// Joining a room, a channel, home or a voice channel.
    pub navigation: Arc<dyn Navigation>,
    /// What a resumed subscription (`x-since-seq`) missed.
    pub reading: Arc<dyn Reading>,
}

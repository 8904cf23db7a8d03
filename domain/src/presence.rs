//! Sessions and the online/offline changes the lobby announces.

use crate::{Audience, SessionId, Timestamp, UserId};

/// One authenticated connection of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Globally unique id of the connection.
    pub id: SessionId,
    /// Whose connection it is (from the verified token).
    pub user: UserId,
    /// When it was opened.
    pub opened_at: Timestamp,
}

/// Whether a user has any live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceStatus {
    /// At least one session is open.
    Online,
    /// The last session closed.
    Offline,
}

/// A session opened or closed: announced to every room of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceChange {
    /// Whose session.
    pub user: UserId,
    /// Connect (`Online`) or disconnect (`Offline`).
    pub status: PresenceStatus,
    /// The user's rooms and communities: who hears it.
    pub audiences: Vec<Audience>,
}

//! "Someone is typing" notices: delivered, never stored.

use crate::{RoomRef, UserProfile};

/// A user is typing in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    /// Where.
    pub room: RoomRef,
    /// Who, as the user directory knows them.
    pub user: UserProfile,
}

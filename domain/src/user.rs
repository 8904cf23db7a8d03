//! Users as others see them.

use crate::UserId;

/// The display profile of a user, as the user directory knows it. Never taken
/// from what a client claims in a message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// Who.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Profile image URL, if any.
    pub image: Option<String>,
}

impl UserProfile {
    /// A profile with only an id: the name falls back to the id so events always have one.
    pub fn anonymous(id: UserId) -> Self {
        Self {
            id,
            name: id.to_string(),
            image: None,
        }
    }
}

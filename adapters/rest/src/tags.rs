//! Groups of operations in the OpenAPI document.

use poem_openapi::Tags;

/// Operation groups.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// The caller's DM rooms and communities.
    Rooms,
    /// Room history and single messages.
    Messages,
    /// Unread counts and read markers.
    Unread,
    /// Who is online.
    Presence,
    /// Endpoints of the seed (Java) server, kept for its clients and services.
    Seed,
}

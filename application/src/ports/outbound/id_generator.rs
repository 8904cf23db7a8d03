use domain::{MessageId, SessionId};

/// Source of fresh, globally unique identifiers.
///
/// Implemented by `adapters/memory` (`RandomIds`); mocked as `MockIdGenerator`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync + 'static {
    /// A new message id (24 lower-case hex characters, like a Mongo `ObjectId`).
    fn message_id(&self) -> MessageId;
    /// A new session id, unique across every instance.
    fn session_id(&self) -> SessionId;
}

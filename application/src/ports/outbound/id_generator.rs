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
    /// A new file key: 128 random bits as 32 lower-case hex characters, so that
    /// nobody can guess the key of a file they were not given.
    fn file_key(&self) -> String;
}

//! Refusals that do not end the session: a stable `snake_case` code and a message,
//! sent to the client's `/user/queue/errors`. Every use-case error is mapped here,
//! exhaustively, so a new variant forces a decision.

use application::usecases::{
    DeleteMessageError, EditMessageError, ListenError, PostError, ReplyToMessageError, TypingError,
};
use domain::{DeleteError, EditError, MessageBodyError, ReplyError};
use serde::Serialize;

/// Why a client request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn unavailable(cause: &anyhow::Error) -> Self {
        tracing::error!(error = ?cause, "request failed on a dependency");
        Self::new(
            "unavailable",
            "chat service temporarily unavailable, try again",
        )
    }

    /// The JSON body of the error-queue message.
    pub(crate) fn to_json(&self, destination: Option<&str>, receipt: Option<&str>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            destination: Option<&'a str>,
            #[serde(rename = "receipt-id", skip_serializing_if = "Option::is_none")]
            receipt: Option<&'a str>,
        }
        serde_json::to_vec(&Body {
            kind: "error",
            code: self.code,
            message: &self.message,
            destination,
            receipt,
        })
        .unwrap_or_default()
    }
}

fn body(err: &MessageBodyError) -> Refusal {
    match err {
        MessageBodyError::Empty => Refusal::new("empty_content", err.to_string()),
        MessageBodyError::TooLong { .. } => Refusal::new("content_too_long", err.to_string()),
    }
}

impl From<PostError> for Refusal {
    fn from(err: PostError) -> Self {
        match &err {
            PostError::InvalidBody(e) => body(e),
            PostError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            PostError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<ReplyToMessageError> for Refusal {
    fn from(err: ReplyToMessageError) -> Self {
        match &err {
            ReplyToMessageError::InvalidBody(e) => body(e),
            ReplyToMessageError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            ReplyToMessageError::ParentNotFound(_) => {
                Self::new("parent_not_found", err.to_string())
            }
            ReplyToMessageError::Refused(ReplyError::ParentInOtherRoom(_)) => {
                Self::new("parent_in_other_room", err.to_string())
            }
            ReplyToMessageError::Refused(ReplyError::ParentDeleted(_)) => {
                Self::new("parent_deleted", err.to_string())
            }
            ReplyToMessageError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<EditMessageError> for Refusal {
    fn from(err: EditMessageError) -> Self {
        match &err {
            EditMessageError::InvalidBody(e) => body(e),
            EditMessageError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            EditMessageError::NotFound(_) => Self::new("message_not_found", err.to_string()),
            EditMessageError::Refused(EditError::NotTheAuthor(_)) => {
                Self::new("not_the_author", err.to_string())
            }
            EditMessageError::Refused(EditError::Deleted(_)) => {
                Self::new("message_deleted", err.to_string())
            }
            EditMessageError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<DeleteMessageError> for Refusal {
    fn from(err: DeleteMessageError) -> Self {
        match &err {
            DeleteMessageError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            DeleteMessageError::NotFound(_) => Self::new("message_not_found", err.to_string()),
            DeleteMessageError::Refused(DeleteError::NotTheAuthor(_)) => {
                Self::new("not_the_author", err.to_string())
            }
            DeleteMessageError::Refused(DeleteError::AlreadyDeleted(_)) => {
                Self::new("message_deleted", err.to_string())
            }
            DeleteMessageError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<TypingError> for Refusal {
    fn from(err: TypingError) -> Self {
        match &err {
            TypingError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            TypingError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<ListenError> for Refusal {
    fn from(err: ListenError) -> Self {
        match &err {
            ListenError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            ListenError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

//! Refusals that do not end the session: a stable `snake_case` code and a message,
//! sent to the client's `/user/queue/errors`. Every use-case error is mapped here,
//! exhaustively, so a new variant forces a decision.
//!
//! The errors that do end it ([`Fatal`]) are a fixed set too; both kinds are
//! counted by code in `chat_errors_total`.

use application::usecases::{
    ChangeLocationError, DeleteMessageError, EditMessageError, EnterVoiceError, ListenError,
    Overloaded, PostError, RateLimited, ReplayError, ReplyToMessageError, TypingError,
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

    /// Whether the server's own state caused it (it is busy), not the client's request: such
    /// a refusal spends nothing of the session's refusal budget.
    pub(crate) fn is_server_busy(&self) -> bool {
        self.code == "overloaded"
    }

    /// Counts this refusal in `chat_errors_total`.
    pub(crate) fn record(&self) {
        record_error(self.code);
    }

    pub(crate) fn unavailable(cause: &anyhow::Error) -> Self {
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

/// Why a session is closed with an ERROR frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fatal {
    MalformedFrame,
    ConnectRefused,
    NotConnected,
    HeartBeatTimeout,
    ConnectTimeout,
    SlowConsumer,
    AlreadyConnected,
    UnexpectedFrame,
    MissingHeader,
    UnsupportedVersion,
    TokenExpired,
    TooManyConnections,
    TooManyRefusals,
}

impl Fatal {
    #[cfg(test)]
    const ALL: [Self; 13] = [
        Self::MalformedFrame,
        Self::ConnectRefused,
        Self::NotConnected,
        Self::HeartBeatTimeout,
        Self::ConnectTimeout,
        Self::SlowConsumer,
        Self::AlreadyConnected,
        Self::UnexpectedFrame,
        Self::MissingHeader,
        Self::UnsupportedVersion,
        Self::TokenExpired,
        Self::TooManyConnections,
        Self::TooManyRefusals,
    ];

    /// The ERROR frame's `message` header, which clients match on.
    pub(crate) const fn message(self) -> &'static str {
        match self {
            Self::MalformedFrame => "malformed frame",
            Self::ConnectRefused => "connect refused",
            Self::NotConnected => "not connected",
            Self::HeartBeatTimeout => "heart-beat timeout",
            Self::ConnectTimeout => "connect timeout",
            Self::SlowConsumer => "slow consumer",
            Self::AlreadyConnected => "already connected",
            Self::UnexpectedFrame => "unexpected frame",
            Self::MissingHeader => "missing header",
            Self::UnsupportedVersion => "unsupported protocol version",
            Self::TokenExpired => "token expired",
            Self::TooManyConnections => "too many connections",
            Self::TooManyRefusals => "too many refusals",
        }
    }

    /// The stable `snake_case` code, the `code` label of `chat_errors_total`.
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Self::MalformedFrame => "malformed_frame",
            Self::ConnectRefused => "connect_refused",
            Self::NotConnected => "not_connected",
            Self::HeartBeatTimeout => "heart_beat_timeout",
            Self::ConnectTimeout => "connect_timeout",
            Self::SlowConsumer => "slow_consumer",
            Self::AlreadyConnected => "already_connected",
            Self::UnexpectedFrame => "unexpected_frame",
            Self::MissingHeader => "missing_header",
            Self::UnsupportedVersion => "unsupported_version",
            Self::TokenExpired => "token_expired",
            Self::TooManyConnections => "too_many_connections",
            Self::TooManyRefusals => "too_many_refusals",
        }
    }

    /// Counts this error in `chat_errors_total`.
    pub(crate) fn record(self) {
        record_error(self.code());
    }
}

fn record_error(code: &'static str) {
    metric_names::error_code(code).increment(1);
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
            PostError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
            PostError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<ReplyToMessageError> for Refusal {
    fn from(err: ReplyToMessageError) -> Self {
        match &err {
            ReplyToMessageError::InvalidBody(e) => body(e),
            ReplyToMessageError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            ReplyToMessageError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
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
            EditMessageError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
            EditMessageError::NotFound(_) => Self::new("message_not_found", err.to_string()),
            EditMessageError::Refused(EditError::NotTheAuthor(_)) => {
                Self::new("not_the_author", err.to_string())
            }
            EditMessageError::Refused(EditError::Deleted(_)) => {
                Self::new("message_deleted", err.to_string())
            }
            EditMessageError::Refused(EditError::SharesFile(_)) => {
                Self::new("not_editable", err.to_string())
            }
            EditMessageError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<DeleteMessageError> for Refusal {
    fn from(err: DeleteMessageError) -> Self {
        match &err {
            DeleteMessageError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            DeleteMessageError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
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

impl From<ChangeLocationError> for Refusal {
    fn from(err: ChangeLocationError) -> Self {
        match &err {
            ChangeLocationError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            ChangeLocationError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
            ChangeLocationError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<EnterVoiceError> for Refusal {
    fn from(err: EnterVoiceError) -> Self {
        match &err {
            EnterVoiceError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            EnterVoiceError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<RateLimited> for Refusal {
    fn from(err: RateLimited) -> Self {
        Self::new("rate_limited", err.to_string())
    }
}

impl From<Overloaded> for Refusal {
    fn from(err: Overloaded) -> Self {
        Self::new("overloaded", err.to_string())
    }
}

impl From<TypingError> for Refusal {
    fn from(err: TypingError) -> Self {
        match &err {
            TypingError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            TypingError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
            TypingError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<ReplayError> for Refusal {
    fn from(err: ReplayError) -> Self {
        match &err {
            ReplayError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            ReplayError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
            ReplayError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<ListenError> for Refusal {
    fn from(err: ListenError) -> Self {
        match &err {
            ListenError::Forbidden(_) => Self::new("not_a_member", err.to_string()),
            ListenError::UnknownChannel(_) => Self::new("unknown_channel", err.to_string()),
            ListenError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::Fatal;

    #[test]
    fn fatal_error_codes_are_distinct_snake_case_forms_of_their_messages() {
        let codes: HashSet<_> = Fatal::ALL.into_iter().map(Fatal::code).collect();
        assert_eq!(codes.len(), Fatal::ALL.len(), "codes are distinct");
        for fatal in Fatal::ALL {
            let code = fatal.code();
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} is snake_case"
            );
            let words = |text: &str| {
                text.split([' ', '-', '_'])
                    .filter(|w| *w != "protocol")
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            assert_eq!(words(code), words(fatal.message()), "{fatal:?}");
        }
    }
}

//! One JSON error shape for every failure: a stable `snake_case` code and a
//! human message, with the matching status. Use-case errors are mapped
//! exhaustively (no catch-all arm), so a new variant forces a decision here.

use application::ports::inbound::TokenError;
use application::usecases::{
    GetMessageError, HistoryError, ListRoomsError, MarkReadError, PostFileError,
    PresenceQueryError, RateLimited, SetChannelError, SetMembersError, UnreadError,
    VoiceLeaveCommandError,
};
use poem::http::StatusCode;
use poem::{IntoResponse as _, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_a_member`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// Every error response of the API.
#[derive(Debug, ApiResponse)]
pub(crate) enum ApiError {
    /// The request's parameters or body are invalid.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No credential, or an invalid or expired one.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The caller is not a member of the room.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such message (`message_not_found`), or a channel no authoritative source places in
    /// the community named (`unknown_channel`).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request body is larger than the server accepts.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not of the operation's media type, or an uploaded file's type is not accepted.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// The body is well-formed but its content is invalid.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests from this user; retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorBody>,
        /// Seconds to wait before the next request.
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// A dependency of the server is down; retry later.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    metric_names::error_code(code.to_owned()).increment(1);
    Json(ErrorBody {
        code: code.to_owned(),
        message: message.into(),
    })
}

impl ApiError {
    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::BadRequest(body(code, message))
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(body("unauthorized", message))
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(body("not_a_member", message))
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(body("message_not_found", message))
    }

    pub(crate) fn unknown_channel(message: impl Into<String>) -> Self {
        Self::NotFound(body("unknown_channel", message))
    }

    pub(crate) fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::Unprocessable(body(code, message))
    }

    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::PayloadTooLarge(body("file_too_large", message))
    }

    /// The upload request as a whole passed its limit while it streamed in.
    pub(crate) fn upload_too_large(message: impl Into<String>) -> Self {
        Self::PayloadTooLarge(body("upload_too_large", message))
    }

    /// The user has the most uploads in progress already.
    pub(crate) fn too_many_uploads(message: impl Into<String>) -> Self {
        Self::TooManyRequests(body("too_many_uploads", message), 1)
    }

    /// A local failure of this server (a temporary file could not be written): retry later.
    pub(crate) fn internal(cause: &anyhow::Error) -> Self {
        Self::unavailable(cause)
    }

    fn unavailable(cause: &anyhow::Error) -> Self {
        tracing::error!(error = ?cause, "request failed on a dependency");
        Self::Unavailable(body(
            "unavailable",
            "a dependency of the chat server is unavailable; retry later",
        ))
    }
}

impl From<RateLimited> for ApiError {
    fn from(err: RateLimited) -> Self {
        let seconds = err.retry_after.as_secs() + u64::from(err.retry_after.subsec_nanos() > 0);
        Self::TooManyRequests(body("rate_limited", err.to_string()), seconds.max(1))
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        Self::unauthorized(err.to_string())
    }
}

impl From<HistoryError> for ApiError {
    fn from(err: HistoryError) -> Self {
        match &err {
            HistoryError::Forbidden(_) => Self::forbidden(err.to_string()),
            HistoryError::UnknownChannel(_) => Self::unknown_channel(err.to_string()),
            HistoryError::InvalidLimit { .. } => {
                Self::bad_request("invalid_limit", err.to_string())
            }
            HistoryError::PageTooDeep { .. } => Self::bad_request("page_too_deep", err.to_string()),
            HistoryError::CursorNotFound(_) => Self::not_found(err.to_string()),
            HistoryError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<GetMessageError> for ApiError {
    fn from(err: GetMessageError) -> Self {
        match &err {
            // Also a message of a room the caller may not read: one answer for both.
            GetMessageError::NotFound(_) => Self::not_found(err.to_string()),
            GetMessageError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<ListRoomsError> for ApiError {
    fn from(err: ListRoomsError) -> Self {
        match &err {
            ListRoomsError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<UnreadError> for ApiError {
    fn from(err: UnreadError) -> Self {
        match &err {
            UnreadError::Forbidden(_) => Self::forbidden(err.to_string()),
            UnreadError::UnknownChannel(_) => Self::unknown_channel(err.to_string()),
            UnreadError::TooManyRooms { .. } => {
                Self::bad_request("too_many_rooms", err.to_string())
            }
            UnreadError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<MarkReadError> for ApiError {
    fn from(err: MarkReadError) -> Self {
        match &err {
            MarkReadError::Forbidden(_) => Self::forbidden(err.to_string()),
            MarkReadError::UnknownChannel(_) => Self::unknown_channel(err.to_string()),
            MarkReadError::NotFound(_) => Self::not_found(err.to_string()),
            MarkReadError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<PresenceQueryError> for ApiError {
    fn from(err: PresenceQueryError) -> Self {
        match &err {
            PresenceQueryError::TooManyUsers { .. } => {
                Self::bad_request("too_many_users", err.to_string())
            }
            PresenceQueryError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<SetMembersError> for ApiError {
    fn from(err: SetMembersError) -> Self {
        match &err {
            SetMembersError::NotAGroup(_) => Self::bad_request("not_a_group", err.to_string()),
            SetMembersError::TooManyMembers { .. } => {
                Self::PayloadTooLarge(body("too_many_members", err.to_string()))
            }
            SetMembersError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<SetChannelError> for ApiError {
    fn from(err: SetChannelError) -> Self {
        match &err {
            SetChannelError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<PostFileError> for ApiError {
    fn from(err: PostFileError) -> Self {
        match &err {
            PostFileError::InvalidFileType(_) => {
                Self::bad_request("invalid_file_type", err.to_string())
            }
            PostFileError::UnsupportedType(_) => {
                Self::UnsupportedMediaType(body("unsupported_file_type", err.to_string()))
            }
            PostFileError::TooLarge { .. } => Self::too_large(err.to_string()),
            PostFileError::BadUpload(_) => Self::bad_request("invalid_form", err.to_string()),
            PostFileError::Forbidden(_) => Self::forbidden(err.to_string()),
            PostFileError::UnknownChannel(_) => Self::unknown_channel(err.to_string()),
            PostFileError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

impl From<VoiceLeaveCommandError> for ApiError {
    fn from(err: VoiceLeaveCommandError) -> Self {
        match &err {
            VoiceLeaveCommandError::Unavailable(cause) => Self::unavailable(cause),
        }
    }
}

/// Errors raised before a handler runs (parameter parsing, missing credentials,
/// size limits, unknown paths) rendered in the API's error shape. Responses the
/// handlers built themselves pass through unchanged.
pub(crate) async fn render_framework_error(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => {
            tracing::error!(error = %err, "request failed");
            "internal"
        }
        _ => "bad_request",
    };
    let message = if status.is_server_error() {
        "internal error".to_owned()
    } else {
        err.to_string()
    };
    tracing::info!(%status, code, %message, "request refused");
    metric_names::error_code(code).increment(1);
    Json(ErrorBody {
        code: code.to_owned(),
        message,
    })
    .with_status(status)
    .into_response()
}

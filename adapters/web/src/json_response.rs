//! JSON responses of this adapter, errors in the REST API's shape
//! (`{"code": "...", "message": "..."}`) so that clients handle one shape.

use poem::http::StatusCode;
use poem::{IntoResponse as _, Response};
use serde_json::{Value, json};

/// A JSON body with `status`, never cached.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    body.to_string()
        .with_content_type("application/json")
        .with_status(status)
        .with_header("Cache-Control", "no-store")
        .into_response()
}

/// An error with a stable `code` and a human `message`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json(status, &json!({ "code": code, "message": message }))
}

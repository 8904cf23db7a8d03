//! Errors and refusals sent to clients, counted by their stable code: the REST API's error
//! bodies, refused file downloads and STOMP ERROR/refusal frames share one counter. Codes
//! come from fixed sets in each adapter, so the label stays bounded.

use metrics::{Counter, SharedString};

/// Counter by [`CODE`]: refusals and errors sent to clients.
pub const ERRORS: &str = "chat_errors_total";

/// Label key: the error's stable code (`empty_content`, `not_found`, …).
pub const CODE: &str = "code";

/// The [`ERRORS`] counter of `code`.
pub fn error_code(code: impl Into<SharedString>) -> Counter {
    metrics::counter!(ERRORS, CODE => code)
}

//! The REST API's OpenAPI document, generated from the code.
//!
//! The document depends only on the API's types, not on a running chat, so it is
//! built over the mocked driving port (never called).

use std::path::PathBuf;
use std::sync::Arc;

use adapter_rest::RestSettings;
use application::ports::inbound::MockChatService;

/// Where the checked-in document lives.
pub fn document_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

/// The document the code describes, pretty-printed, ending with a newline.
pub fn generate() -> anyhow::Result<String> {
    let settings = RestSettings {
        service_token: String::new(),
        max_body_bytes: 0,
    };
    let json = adapter_rest::openapi_json(Arc::new(MockChatService::new()), &settings);
    let value: serde_json::Value = serde_json::from_str(&json)?;
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

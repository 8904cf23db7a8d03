//! The REST API's OpenAPI document, generated from the code.
//!
//! The document depends only on the API's types, not on a running chat, so it is
//! built over the mocked driving ports (never called).

use std::path::PathBuf;
use std::sync::Arc;

use adapter_rest::{ChatPorts, RestSettings};
use application::ports::inbound::{MockAccess, MockFileSharing, MockReading, MockRoster};

/// Where the checked-in document lives.
pub fn document_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

/// The document the code describes, pretty-printed, ending with a newline.
pub fn generate() -> anyhow::Result<String> {
    let settings = RestSettings {
        service_token: String::new().into(),
        max_body_bytes: 0,
        max_file_bytes: 0,
        max_upload_bytes: 0,
        max_concurrent_uploads: 2,
        upload_room_first: true,
    };
    let chat = ChatPorts {
        access: Arc::new(MockAccess::new()),
        reading: Arc::new(MockReading::new()),
        file_sharing: Arc::new(MockFileSharing::new()),
        roster: Arc::new(MockRoster::new()),
    };
    let json = adapter_rest::openapi_json(&chat, &settings);
    let value: serde_json::Value = serde_json::from_str(&json)?;
    Ok(serde_json::to_string_pretty(&with_sorted_keys(value))? + "\n")
}

/// The same document with every object's keys in order, so the output does not depend on
/// whether some crate in the build turned on `serde_json`'s `preserve_order` (bson does).
fn with_sorted_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, with_sorted_keys(value)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(with_sorted_keys).collect())
        }
        other => other,
    }
}

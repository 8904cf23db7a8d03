//! The checked-in OpenAPI document must be exactly what the code generates.

#![allow(clippy::expect_used)]

#[test]
fn the_checked_in_openapi_document_matches_the_code() {
    let generated = chat_openapi::generate().expect("document is generated");
    let path = chat_openapi::document_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("document is written");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale: regenerate it with `cargo run -p chat-openapi` and commit it",
        path.display()
    );
}

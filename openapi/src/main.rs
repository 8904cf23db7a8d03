//! `cargo run -p chat-openapi`: rewrites `openapi/openapi.json` from the code.

fn main() -> anyhow::Result<()> {
    let path = chat_openapi::document_path();
    std::fs::write(&path, chat_openapi::generate()?)?;
    println!("wrote {}", path.display());
    Ok(())
}

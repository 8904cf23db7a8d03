//! File messages: what a message that shares a file carries besides its text.
//!
//! As in the seed, a file message's text is the file's URL (history and reply
//! snapshots show it like any text); the attachment adds the seed's `fileType`
//! and the thumbnail's URL. Both URLs come from the file store, never from a client.

use std::fmt;

/// Why a file URL or file type was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// Not an absolute `http(s)` URL or a server path, too long, or holding
    /// whitespace or control characters.
    #[error("`{0}` is not a valid file URL")]
    Url(String),
    /// Not 1 to 32 characters of `[a-z0-9._-]`.
    #[error("`{0}` is not a valid file type")]
    FileType(String),
}

/// Where a stored file is downloaded: an absolute `http(s)` URL, or a path on
/// this server (`/files/…`) when files are served by the server itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileUrl(String);

impl FileUrl {
    /// Longest URL accepted, in bytes (well inside a message's 4000 characters).
    pub const MAX_LEN: usize = 2048;

    /// Validates a URL.
    pub fn parse(text: &str) -> Result<Self, AttachmentError> {
        let scheme_ok =
            text.starts_with("https://") || text.starts_with("http://") || text.starts_with('/');
        let chars_ok = text.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if scheme_ok && chars_ok && text.len() > 1 && text.len() <= Self::MAX_LEN {
            Ok(Self(text.to_owned()))
        } else {
            Err(AttachmentError::Url(text.to_owned()))
        }
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The seed's `fileType`: what clients render (`image`, `video`, or anything
/// else, shown as a download link). Lower-cased; `reply` is refused because the
/// seed stores replies with that same field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileType(String);

impl FileType {
    /// Longest file type accepted.
    pub const MAX_LEN: usize = 32;

    /// Validates a file type as a client names it (`"image"`, `"Video"`, `"pdf"`).
    pub fn parse(text: &str) -> Result<Self, AttachmentError> {
        let lower = text.trim().to_ascii_lowercase();
        let ok = !lower.is_empty()
            && lower.len() <= Self::MAX_LEN
            && lower != "reply"
            && lower
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(lower))
        } else {
            Err(AttachmentError::FileType(text.to_owned()))
        }
    }

    /// The type as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether clients show a thumbnail for it (the seed uploads one for these only).
    pub fn has_thumbnail(&self) -> bool {
        matches!(self.0.as_str(), "image" | "video")
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a file message carries besides its text (the file's URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// How clients render it.
    pub file_type: FileType,
    /// The preview image, when one was uploaded.
    pub thumbnail: Option<FileUrl>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_url_is_absolute_http_or_a_server_path() {
        assert!(FileUrl::parse("https://bucket.s3.example.com/a.png").is_ok());
        assert!(FileUrl::parse("/files/0a1b.png").is_ok());
        for bad in [
            "",
            "/",
            "ftp://x/y",
            "javascript:alert(1)",
            "https://a b",
            "https://a\n",
        ] {
            assert!(FileUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(FileUrl::parse(&format!("/{}", "a".repeat(FileUrl::MAX_LEN))).is_err());
    }

    #[test]
    fn a_file_type_is_a_short_lower_case_word() {
        assert_eq!(FileType::parse(" Image ").expect("valid").as_str(), "image");
        assert!(FileType::parse("application.pdf").is_ok());
        for bad in ["", "reply", "a b", "<script>", &"x".repeat(33)] {
            assert!(FileType::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn only_images_and_videos_have_thumbnails() {
        assert!(FileType::parse("image").expect("valid").has_thumbnail());
        assert!(FileType::parse("video").expect("valid").has_thumbnail());
        assert!(!FileType::parse("pdf").expect("valid").has_thumbnail());
    }
}

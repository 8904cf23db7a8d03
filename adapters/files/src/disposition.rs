//! Which files a browser may show inline: raster images, audio and video. Anything
//! else (SVG, HTML, PDF, text…) can carry script or be sniffed into a page, so it
//! is sent as an attachment (downloaded, never rendered).

/// Raster images shown inline, besides every `audio/*` and `video/*`.
const INLINE_IMAGES: [&str; 7] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "image/x-ms-bmp",
];

/// Whether a file of `content_type` (a normalised media type) may be shown inline.
pub(crate) fn is_inline(content_type: &str) -> bool {
    INLINE_IMAGES.contains(&content_type)
        || content_type.starts_with("audio/")
        || content_type.starts_with("video/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_images_audio_and_video_are_inline_and_active_types_are_not() {
        for inline in ["image/png", "image/jpeg", "audio/ogg", "video/mp4"] {
            assert!(is_inline(inline), "{inline}");
        }
        for attachment in [
            "image/svg+xml",
            "text/html",
            "application/pdf",
            "text/plain",
        ] {
            assert!(!is_inline(attachment), "{attachment}");
        }
    }
}

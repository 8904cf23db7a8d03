//! File keys. The use case generates them (`<message id>[-thumb][.ext]`); the stores
//! check them again because a key becomes a path on disk or in a bucket, and the
//! download route checks what a client asks for with the same rule.

/// Whether `key` is 1 to 128 characters of `[a-z0-9._-]` not starting with a dot,
/// so it can never name a directory, a hidden file or another path.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 128
        && !key.starts_with('.')
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// The key of a file stored under `base_url` (`{base_url}/{key}`), if `url` is one.
pub(crate) fn key_under<'a>(url: &'a str, base_url: &str) -> Option<&'a str> {
    url.strip_prefix(base_url)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|key| is_valid_key(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_valid() {
        assert!(is_valid_key("6565f1c2a9b1e8a3d4c5b6a7.png"));
        assert!(is_valid_key("6565f1c2a9b1e8a3d4c5b6a7-thumb.jpg"));
    }

    #[test]
    fn keys_that_could_escape_or_hide_are_refused() {
        for bad in [
            "",
            ".meta",
            "../x",
            "a/b",
            "a\\b",
            "A.png",
            "a b",
            &"x".repeat(129),
        ] {
            assert!(!is_valid_key(bad), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_key_is_read_only_from_a_url_under_the_base() {
        let base = "http://chat.example/files";
        assert_eq!(
            key_under("http://chat.example/files/ab12.png", base),
            Some("ab12.png")
        );
        assert_eq!(key_under("http://other.example/files/ab12.png", base), None);
        assert_eq!(key_under("http://chat.example/files/../x", base), None);
    }
}

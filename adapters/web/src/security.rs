//! The response headers that lock the page down: a strict Content-Security-Policy
//! (only this server's own scripts, styles and images; connections only to this
//! server over HTTP and WebSocket), no framing, no MIME sniffing, no referrer.

use poem::Response;
use poem::http::HeaderValue;

/// Longest `Host` header copied into the policy (a DNS name plus a port).
const MAX_HOST_LEN: usize = 260;

/// Whether `host` is a plain `name[:port]` or `[v6]:port`: anything else (spaces,
/// `;`, quotes) could smuggle directives into the policy, so it is left out.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The policy for a page requested with `host` as its `Host` header.
///
/// `'self'` covers same-origin `ws:`/`wss:` in CSP Level 3 browsers only, so the
/// WebSocket URLs of the same host are named explicitly for older ones.
pub(crate) fn content_security_policy(host: Option<&str>) -> String {
    let sockets = host
        .filter(|h| is_plain_host(h))
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'; object-src 'none'"
    )
}

/// Adds the policy and the other protective headers to `response`.
pub(crate) fn protect(response: &mut Response, host: Option<&str>) {
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(host)) {
        headers.insert("Content-Security-Policy", policy);
    }
    headers.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
    headers.insert("Referrer-Policy", HeaderValue::from_static("no-referrer"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_websockets_to_the_same_host_only() {
        let policy = content_security_policy(Some("127.0.0.1:8080"));

        assert!(policy.starts_with("default-src 'self';"));
        assert!(policy.contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"));
    }

    #[test]
    fn a_host_header_that_could_inject_directives_is_left_out() {
        let policy = content_security_policy(Some("evil; script-src *"));

        assert!(policy.contains("connect-src 'self';"));
        assert!(!policy.contains("evil"));
    }
}

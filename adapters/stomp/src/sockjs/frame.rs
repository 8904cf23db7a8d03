//! SockJS framing: what the server sends (`o`, `h`, `a[…]`, `c[code,"reason"]`) and
//! what clients send (a JSON array of strings; on WebSocket also a single string).

use std::fmt::Write as _;

use crate::transport::Close;

/// One frame from the server, before the transport adds its own delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerFrame {
    /// The session is open.
    Open,
    /// Nothing to say; keeps proxies from closing an idle connection.
    Heartbeat,
    /// Messages (here: STOMP frames), oldest first.
    Messages(Vec<String>),
    /// The session is closed; sent to every later receiver until it is forgotten.
    Close(u16, String),
}

impl ServerFrame {
    /// The close frame for a session the server ended: a normal end (DISCONNECT) is
    /// SockJS's conventional `c[3000,"Go away!"]`, anything else keeps its code.
    pub(crate) fn closing(close: &Close) -> Self {
        if close.code == Close::NORMAL {
            Self::Close(3000, "Go away!".to_owned())
        } else {
            Self::Close(close.code, close.reason.clone())
        }
    }

    /// The answer to a second receiving request while one is already waiting.
    pub(crate) fn another_connection() -> Self {
        Self::Close(2010, "Another connection still open".to_owned())
    }

    /// The frame as SockJS text.
    pub(crate) fn encode(&self) -> String {
        match self {
            Self::Open => "o".to_owned(),
            Self::Heartbeat => "h".to_owned(),
            Self::Messages(messages) => {
                let mut out = String::from("a[");
                for (i, message) in messages.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_json_string(&mut out, message);
                }
                out.push(']');
                out
            }
            Self::Close(code, reason) => {
                let mut out = format!("c[{code},");
                push_json_string(&mut out, reason);
                out.push(']');
                out
            }
        }
    }
}

/// Appends `text` as a JSON string, also escaping the characters SockJS requires
/// servers to escape: some browsers and proxies mangle them on HTTP transports.
fn push_json_string(out: &mut String, text: &str) {
    let json = serde_json::Value::String(text.to_owned()).to_string();
    for c in json.chars() {
        let code = u32::from(c);
        let special =
            matches!(code, 0x200c..=0x200f | 0x2028..=0x202f | 0x2060..=0x206f | 0xfff0..=0xffff);
        if special {
            let _ = write!(out, "\\u{code:04x}");
        } else {
            out.push(c);
        }
    }
}

/// Why a client's payload was not accepted (SockJS's wording, answered with 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("Payload expected.")]
    Empty,
    #[error("Broken JSON encoding.")]
    Broken,
}

/// The messages of one client payload: a JSON array of strings, or one string.
pub(crate) fn decode(payload: &[u8]) -> Result<Vec<String>, DecodeError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Payload {
        Many(Vec<String>),
        One(String),
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    match serde_json::from_slice::<Payload>(payload) {
        Ok(Payload::Many(messages)) => Ok(messages),
        Ok(Payload::One(message)) => Ok(vec![message]),
        Err(_) => Err(DecodeError::Broken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_a_json_array_of_strings() {
        let frame = ServerFrame::Messages(vec!["a".into(), "SEND\nx:y\n\nhi\0".into()]);
        assert_eq!(frame.encode(), r#"a["a","SEND\nx:y\n\nhi\u0000"]"#);
    }

    #[test]
    fn characters_browsers_mangle_are_escaped() {
        let frame = ServerFrame::Messages(vec!["\u{2028}\u{200c}\u{fff0}é".into()]);
        assert_eq!(frame.encode(), "a[\"\\u2028\\u200c\\ufff0é\"]");
    }

    #[test]
    fn a_normal_close_is_go_away_and_others_keep_their_code() {
        let normal = ServerFrame::closing(&Close::new(Close::NORMAL, "bye"));
        assert_eq!(normal.encode(), r#"c[3000,"Go away!"]"#);
        let policy = ServerFrame::closing(&Close::new(Close::POLICY_VIOLATION, "connect refused"));
        assert_eq!(policy.encode(), r#"c[1008,"connect refused"]"#);
        assert_eq!(
            ServerFrame::another_connection().encode(),
            r#"c[2010,"Another connection still open"]"#
        );
    }

    #[test]
    fn clients_send_an_array_or_a_single_string() {
        assert_eq!(decode(br#"["a","b"]"#), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(decode(br#""a""#), Ok(vec!["a".into()]));
        assert_eq!(decode(b"[]"), Ok(vec![]));
    }

    #[test]
    fn broken_or_missing_json_is_refused_in_sockjs_words() {
        assert_eq!(decode(br#"["x"#), Err(DecodeError::Broken));
        assert_eq!(decode(b"[1]"), Err(DecodeError::Broken));
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(DecodeError::Broken.to_string(), "Broken JSON encoding.");
    }
}

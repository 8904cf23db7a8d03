//! The STOMP frame commands.

use std::fmt;

/// A frame command, client or server side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Connect,
    Stomp,
    Connected,
    Send,
    Subscribe,
    Unsubscribe,
    Ack,
    Nack,
    Begin,
    Commit,
    Abort,
    Disconnect,
    Message,
    Receipt,
    Error,
}

impl Command {
    pub const ALL: [Command; 15] = [
        Self::Connect,
        Self::Stomp,
        Self::Connected,
        Self::Send,
        Self::Subscribe,
        Self::Unsubscribe,
        Self::Ack,
        Self::Nack,
        Self::Begin,
        Self::Commit,
        Self::Abort,
        Self::Disconnect,
        Self::Message,
        Self::Receipt,
        Self::Error,
    ];

    /// Longest command name: a command line that grows past it without an EOL can be rejected
    /// before the rest arrives.
    pub(super) const MAX_NAME_LEN: usize = {
        let mut max = 0;
        let mut i = 0;
        while i < Self::ALL.len() {
            let len = Self::ALL[i].as_str().len();
            if len > max {
                max = len;
            }
            i += 1;
        }
        max
    };

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Stomp => "STOMP",
            Self::Connected => "CONNECTED",
            Self::Send => "SEND",
            Self::Subscribe => "SUBSCRIBE",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::Ack => "ACK",
            Self::Nack => "NACK",
            Self::Begin => "BEGIN",
            Self::Commit => "COMMIT",
            Self::Abort => "ABORT",
            Self::Disconnect => "DISCONNECT",
            Self::Message => "MESSAGE",
            Self::Receipt => "RECEIPT",
            Self::Error => "ERROR",
        }
    }

    /// Parses a command line (without its EOL). Case-sensitive, as the spec's grammar is.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|command| command.as_str().as_bytes() == bytes)
    }

    /// The connection handshake frames keep their headers unescaped in every version, so that
    /// a 1.0 peer can read them before any version has been negotiated.
    pub(super) fn is_handshake(self) -> bool {
        matches!(self, Self::Connect | Self::Stomp | Self::Connected)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn every_command_parses_back_from_its_own_name() {
        for command in Command::ALL {
            assert_eq!(
                Command::from_bytes(command.as_str().as_bytes()),
                Some(command)
            );
        }
    }

    #[test]
    fn command_names_are_case_sensitive() {
        assert_eq!(Command::from_bytes(b"send"), None);
        assert_eq!(Command::from_bytes(b"Send"), None);
    }

    #[test]
    fn unknown_names_do_not_parse() {
        assert_eq!(Command::from_bytes(b"PUBLISH"), None);
        assert_eq!(Command::from_bytes(b""), None);
    }

    #[test]
    fn the_longest_command_name_is_unsubscribe() {
        assert_eq!(Command::MAX_NAME_LEN, "UNSUBSCRIBE".len());
    }

    #[test]
    fn only_connect_stomp_and_connected_are_handshake_frames() {
        let handshakes: Vec<_> = Command::ALL
            .into_iter()
            .filter(|command| command.is_handshake())
            .collect();

        assert_eq!(
            handshakes,
            [Command::Connect, Command::Stomp, Command::Connected]
        );
    }
}

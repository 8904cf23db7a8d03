//! Random identifiers, unique across instances without coordination.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use application::ports::outbound::IdGenerator;
use domain::{MessageId, SessionId};
use rand::Rng as _;

/// Message ids shaped like Mongo `ObjectId`s (4 bytes of seconds, 5 random bytes,
/// a 3-byte counter: sortable by creation time, like the seed's ids, and so
/// guessable), and 128-bit random session ids and file keys.
#[derive(Debug)]
pub struct RandomIds {
    process: [u8; 5],
    counter: AtomicU32,
}

impl Default for RandomIds {
    fn default() -> Self {
        let mut rng = rand::rng();
        Self {
            process: rng.random(),
            counter: AtomicU32::new(rng.random()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl IdGenerator for RandomIds {
    fn message_id(&self) -> MessageId {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        let count = self.counter.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let mut raw = [0u8; 12];
        raw[..4].copy_from_slice(&seconds.to_be_bytes());
        raw[4..9].copy_from_slice(&self.process);
        raw[9..].copy_from_slice(&count[1..]);
        MessageId::parse(&hex(&raw)).unwrap_or_else(|_| unreachable!("hex is a valid id"))
    }

    fn session_id(&self) -> SessionId {
        let raw: [u8; 16] = rand::rng().random();
        SessionId::parse(&hex(&raw)).unwrap_or_else(|_| unreachable!("hex is a valid id"))
    }

    fn file_key(&self) -> String {
        let raw: [u8; 16] = rand::rng().random();
        hex(&raw)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn message_ids_look_like_object_ids_and_do_not_repeat() {
        let ids = RandomIds::default();
        let generated: HashSet<String> = (0..10_000)
            .map(|_| ids.message_id().as_str().to_owned())
            .collect();
        assert_eq!(generated.len(), 10_000);
        assert!(generated.iter().all(|id| id.len() == 24));
    }

    #[test]
    fn file_keys_are_128_random_bits_in_hex() {
        let ids = RandomIds::default();
        let keys: HashSet<String> = (0..1000).map(|_| ids.file_key()).collect();
        assert_eq!(keys.len(), 1000);
        assert!(keys.iter().all(|key| {
            key.len() == 32
                && key
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }));
    }

    #[test]
    fn session_ids_are_random_and_distinct() {
        let ids = RandomIds::default();
        assert_ne!(ids.session_id(), ids.session_id());
    }
}

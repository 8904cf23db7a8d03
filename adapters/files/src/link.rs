//! Download links that expire: `?exp=<unix seconds>&sig=<hex HMAC-SHA256>` over the
//! file's key and the expiry, with a server secret. A member is handed one with
//! every file message, so an `<img src>` (which cannot send a token) can load the
//! file for a few minutes; anyone else holding it can too, until it expires.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Shortest secret accepted (bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The signature does not match the key and expiry (tampered, or another server's).
    #[error("the download link is not valid")]
    Invalid,
    /// The link is past its expiry.
    #[error("the download link has expired")]
    Expired,
}

/// Signs and checks download links.
#[derive(Clone)]
pub struct LinkSigner {
    secret: Vec<u8>,
    ttl: Duration,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSigner")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LinkSigner {
    /// Links signed with `secret` (at least [`MIN_SECRET_BYTES`]), valid for `ttl`.
    ///
    /// # Errors
    /// When the secret is too short.
    pub fn new(secret: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "files.link_secret must be at least {MIN_SECRET_BYTES} bytes"
        );
        Ok(Self {
            secret: secret.to_vec(),
            ttl,
        })
    }

    /// Links signed with a random secret of this process: they stop working when it
    /// restarts, and on other instances.
    pub fn random(ttl: Duration) -> Self {
        let secret: [u8; 32] = rand::random();
        Self {
            secret: secret.to_vec(),
            ttl,
        }
    }

    /// How long a link stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The query (`exp=…&sig=…`) of a link to `key` made now.
    pub fn query(&self, key: &str) -> String {
        self.query_at(key, now())
    }

    fn query_at(&self, key: &str, now: u64) -> String {
        let expires = now.saturating_add(self.ttl.as_secs().max(1));
        format!("exp={expires}&sig={}", self.signature(key, expires))
    }

    /// Succeeds when `exp` and `sig` are a link to `key` that has not expired.
    ///
    /// # Errors
    /// [`LinkError::Invalid`] for a signature that does not match (checked in constant
    /// time), [`LinkError::Expired`] for a valid one past its expiry.
    pub fn verify(&self, key: &str, exp: &str, sig: &str) -> Result<(), LinkError> {
        self.verify_at(key, exp, sig, now())
    }

    fn verify_at(&self, key: &str, exp: &str, sig: &str, now: u64) -> Result<(), LinkError> {
        let expires: u64 = exp.parse().map_err(|_| LinkError::Invalid)?;
        let sig = hex::decode(sig).map_err(|_| LinkError::Invalid)?;
        self.mac(key, expires)
            .verify_slice(&sig)
            .map_err(|_| LinkError::Invalid)?;
        if expires < now {
            return Err(LinkError::Expired);
        }
        Ok(())
    }

    fn signature(&self, key: &str, expires: u64) -> String {
        hex::encode(self.mac(key, expires).finalize().into_bytes())
    }

    fn mac(&self, key: &str, expires: u64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"chat-server file link\n");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner::new(&[7; 32], Duration::from_secs(300)).expect("signer")
    }

    fn parts(query: &str) -> (String, String) {
        let mut exp = String::new();
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("exp", v)) => exp = v.to_owned(),
                Some(("sig", v)) => sig = v.to_owned(),
                _ => {}
            }
        }
        (exp, sig)
    }

    #[test]
    fn a_link_is_valid_for_its_key_until_it_expires() {
        let (exp, sig) = parts(&signer().query_at("k.png", 1000));
        assert_eq!(exp, "1300");
        assert_eq!(signer().verify_at("k.png", &exp, &sig, 1300), Ok(()));
        assert_eq!(
            signer().verify_at("k.png", &exp, &sig, 1301),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn a_link_for_another_key_or_expiry_or_secret_is_invalid() {
        let (exp, sig) = parts(&signer().query_at("k.png", 1000));
        let other = LinkSigner::new(&[8; 32], Duration::from_secs(300)).expect("signer");
        assert_eq!(
            signer().verify_at("j.png", &exp, &sig, 1000),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            signer().verify_at("k.png", "99999", &sig, 1000),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            other.verify_at("k.png", &exp, &sig, 1000),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            signer().verify_at("k.png", &exp, "zz", 1000),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(LinkSigner::new(b"short", Duration::from_secs(1)).is_err());
    }
}

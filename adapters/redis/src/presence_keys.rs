//! Names of the presence keys. All of them carry the hash tag `{presence}`, so on a Redis
//! Cluster they live in one slot and the scripts may touch them together.
//!
//! | key | type | expires |
//! |---|---|---|
//! | `{prefix}{presence}:session:{sessionId}` | hash `user`, `opened_at`, `owner` | never |
//! | `{prefix}{presence}:user:{userId}` | set of the user's open session ids | never (gone when empty) |
//! | `{prefix}{presence}:owner:{owner}` | set of session ids opened by a lease owner | never |
//! | `{prefix}{presence}:owners` | set of lease owners that may hold sessions | never |
//! | `{prefix}{presence}:lease:{owner}` | the owner's lease | after the lease time |
//!
//! Only the lease expires: a live instance's sessions can never vanish behind its back, and a
//! dead instance's sessions stay until a survivor closes them.

use domain::{SessionId, UserId};

/// Builds the key names for one key prefix.
#[derive(Debug, Clone)]
pub(crate) struct PresenceKeys {
    base: String,
}

impl PresenceKeys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            base: format!("{prefix}{{presence}}:"),
        }
    }

    /// What every presence key starts with (the scripts name some keys from it).
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn session(&self, id: &SessionId) -> String {
        format!("{}session:{id}", self.base)
    }

    pub(crate) fn user(&self, user: UserId) -> String {
        format!("{}user:{user}", self.base)
    }

    pub(crate) fn owner(&self, owner: &str) -> String {
        format!("{}owner:{owner}", self.base)
    }

    pub(crate) fn owners(&self) -> String {
        format!("{}owners", self.base)
    }

    pub(crate) fn lease(&self, owner: &str) -> String {
        format!("{}lease:{owner}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_shares_the_prefix_and_one_cluster_hash_tag() {
        let keys = PresenceKeys::new("chat:");
        let session = SessionId::parse("abc").expect("id");
        assert_eq!(keys.session(&session), "chat:{presence}:session:abc");
        assert_eq!(keys.user(UserId::new(7)), "chat:{presence}:user:7");
        assert_eq!(keys.owner("node-1:x"), "chat:{presence}:owner:node-1:x");
        assert_eq!(keys.owners(), "chat:{presence}:owners");
        assert_eq!(keys.lease("node-1:x"), "chat:{presence}:lease:node-1:x");
    }
}

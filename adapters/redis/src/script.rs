//! [`LuaScript`]: a server-side script run with EVALSHA, loaded on first use and again whenever
//! the server no longer has it (after a restart, or on another cluster node).

use std::sync::OnceLock;

use fred::interfaces::{ClientLike as _, LuaInterface as _};
use fred::prelude::Value;
use fred::types::{ClusterHash, CustomCommand};

use crate::connection::RedisConnection;

/// A Lua script; Redis runs each call atomically, which is what makes the presence updates
/// safe when several instances act on the same session at once.
pub(crate) struct LuaScript {
    name: &'static str,
    source: &'static str,
    /// The script's SHA-1, as `SCRIPT LOAD` returned it. It depends only on the source, so one
    /// value serves every connection.
    sha: OnceLock<String>,
}

impl LuaScript {
    pub(crate) const fn new(name: &'static str, source: &'static str) -> Self {
        Self {
            name,
            source,
            sha: OnceLock::new(),
        }
    }

    /// Runs the script with `keys` and `args`, bounded by the command timeout.
    pub(crate) async fn run(
        &self,
        connection: &RedisConnection,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> anyhow::Result<Value> {
        let client = connection.client();
        let sha = if let Some(sha) = self.sha.get() {
            sha.clone()
        } else {
            let sha: String = connection
                .bounded("SCRIPT LOAD", client.script_load(self.source))
                .await?;
            // A concurrent first call may have stored it already: the same value.
            let _ = self.sha.set(sha.clone());
            sha
        };
        connection
            .bounded(self.name, async {
                match client
                    .evalsha::<Value, _, _, _>(sha, keys.clone(), args.clone())
                    .await
                {
                    // This server lost its script cache (restart, failover, another node):
                    // EVAL runs the script and caches it there again.
                    Err(error) if error.details().starts_with("NOSCRIPT") => {
                        client.eval(self.source, keys, args).await
                    }
                    other => other,
                }
            })
            .await
    }

    /// Runs the script like [`run`](Self::run), but fails at once instead of waiting for a
    /// reconnection while the connection is down: for callers with a fallback of their own.
    pub(crate) async fn run_fail_fast(
        &self,
        connection: &RedisConnection,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> anyhow::Result<Value> {
        let client = connection.fail_fast();
        let sha = if let Some(sha) = self.sha.get() {
            sha.clone()
        } else {
            let sha: String = connection
                .bounded(
                    "SCRIPT LOAD",
                    client.custom(
                        CustomCommand::new_static("SCRIPT", ClusterHash::Random, false),
                        vec!["LOAD".to_owned(), self.source.to_owned()],
                    ),
                )
                .await?;
            let _ = self.sha.set(sha.clone());
            sha
        };
        // On a cluster the command goes to the node of its first key.
        let hash = keys.first().map_or(ClusterHash::Random, |key| {
            ClusterHash::Custom(fred::util::redis_keyslot(key.as_bytes()))
        });
        let command = |script: String| {
            let mut words = Vec::with_capacity(2 + keys.len() + args.len());
            words.push(script);
            words.push(keys.len().to_string());
            words.extend(keys.iter().cloned());
            words.extend(args.iter().cloned());
            words
        };
        connection
            .bounded(self.name, async {
                match client
                    .custom::<Value, _>(
                        CustomCommand::new_static("EVALSHA", hash.clone(), false),
                        command(sha),
                    )
                    .await
                {
                    Err(error) if error.details().starts_with("NOSCRIPT") => {
                        client
                            .custom(
                                CustomCommand::new_static("EVAL", hash.clone(), false),
                                command(self.source.to_owned()),
                            )
                            .await
                    }
                    other => other,
                }
            })
            .await
    }
}

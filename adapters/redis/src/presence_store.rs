//! [`RedisPresenceStore`]: the open sessions of every instance in one Redis, so a user is online
//! while any of their sessions on any instance is alive, with a lease per instance so that the
//! sessions of an instance that died are found and closed by the others.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use application::ports::outbound::{ClosedSession, PresenceError, PresenceStore};
use domain::{Session, SessionId, Timestamp, UserId};
use fred::prelude::Value;

use crate::connection::RedisConnection;
use crate::presence_keys::PresenceKeys;
use crate::script::LuaScript;
use crate::settings::RedisSettings;

static OPEN: LuaScript = LuaScript::new("open session", include_str!("lua/open_session.lua"));
static CLOSE: LuaScript = LuaScript::new("close session", include_str!("lua/close_session.lua"));
static ONLINE_AMONG: LuaScript =
    LuaScript::new("online among", include_str!("lua/online_among.lua"));
static ORPHANED: LuaScript = LuaScript::new(
    "orphaned sessions",
    include_str!("lua/orphaned_sessions.lua"),
);

/// Users asked about in one script call, so a huge audience does not block Redis in one go.
const ONLINE_BATCH: usize = 1_000;

/// Orphans returned by one [`PresenceStore::orphaned_sessions`] call; the rest come in later
/// calls, as the returned ones are closed.
const ORPHAN_BATCH: usize = 10_000;

/// Sessions and presence shared by every instance through Redis.
///
/// Every store has a lease owner, `{instance_id}:{boot nonce}`: the nonce makes an instance
/// restarted with the same configuration a new owner, so its previous run's sessions become
/// orphans like those of any dead instance. Sessions opened through the store are recorded
/// under its owner; [`renew_lease`](PresenceStore::renew_lease) keeps the owner's lease key
/// alive, and [`orphaned_sessions`](PresenceStore::orphaned_sessions) lists the sessions of
/// owners whose lease key expired. Opening and closing are Lua scripts, atomic across instances:
/// of several closes of one session, exactly one gets it.
///
/// Redis must not evict keys on its own (`maxmemory-policy noeviction`, the default): an
/// evicted lease would let the survivors close a live instance's sessions.
#[derive(Debug)]
pub struct RedisPresenceStore {
    connection: RedisConnection,
    keys: PresenceKeys,
    owner: String,
    lease_ms: u64,
    /// Whether a renewal succeeded before, so that finding the lease gone is worth a warning.
    lease_held: AtomicBool,
    /// The sessions opened through this store and not closed through it: what this instance
    /// knows to be alive, written back when Redis lost them (a restart without persistence,
    /// or a lease that ran out while this instance stalled).
    local: Mutex<HashMap<SessionId, Session>>,
    /// Sessions whose close failed (Redis away): still recorded as ours, so no survivor would
    /// reap them; handed out as orphans so the next upkeep round closes and announces them.
    abandoned: Mutex<HashSet<SessionId>>,
}

impl RedisPresenceStore {
    /// A store for this instance, with a fresh lease owner. Makes no call: the first
    /// [`renew_lease`](PresenceStore::renew_lease) (or the first session opened) starts the lease.
    pub fn new(connection: RedisConnection, instance_id: &str, settings: &RedisSettings) -> Self {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        Self {
            connection,
            keys: PresenceKeys::new(&settings.key_prefix),
            owner: format!("{instance_id}:{}", &nonce[..12]),
            lease_ms: u64::try_from(settings.lease().as_millis()).unwrap_or(u64::MAX),
            lease_held: AtomicBool::new(false),
            local: Mutex::new(HashMap::new()),
            abandoned: Mutex::new(HashSet::new()),
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Session>> {
        // The map holds plain data: a panic elsewhere cannot leave it half-written.
        self.local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn run_open(&self, session: &Session) -> Result<usize, PresenceError> {
        let reply = OPEN
            .run(
                &self.connection,
                vec![
                    self.keys.session(&session.id),
                    self.keys.user(session.user),
                    self.keys.owner(&self.owner),
                    self.keys.owners(),
                    self.keys.lease(&self.owner),
                ],
                vec![
                    session.id.to_string(),
                    session.user.to_string(),
                    session.opened_at.unix_micros().to_string(),
                    self.owner.clone(),
                    self.lease_ms.to_string(),
                ],
            )
            .await
            .map_err(PresenceError::Unavailable)?;
        count(&reply).ok_or_else(|| unexpected("open session", &reply))
    }

    /// Writes this instance's live sessions back when Redis holds fewer of them than are
    /// alive here (opening an open session changes nothing). Sessions enter the local map
    /// after Redis recorded them and leave it before Redis forgets them, so Redis holding
    /// fewer means it lost some.
    async fn restore_local_sessions(&self) -> Result<(), PresenceError> {
        let sessions: Vec<Session> = self.local().values().cloned().collect();
        if sessions.is_empty() {
            return Ok(());
        }
        let recorded: u64 = self
            .connection
            .bounded(
                "session count",
                fred::interfaces::SetsInterface::scard(
                    self.connection.client(),
                    self.keys.owner(&self.owner),
                ),
            )
            .await
            .map_err(PresenceError::Unavailable)?;
        if usize::try_from(recorded).is_ok_and(|recorded| recorded >= sessions.len()) {
            return Ok(());
        }
        for session in &sessions {
            self.run_open(session).await?;
        }
        tracing::warn!(
            owner = %self.owner,
            sessions = sessions.len(),
            "Redis had lost sessions of this instance (restarted, or our lease ran out): the live ones were written back"
        );
        Ok(())
    }

    /// This store's lease owner, `{instance_id}:{boot nonce}` (for logs).
    pub fn lease_owner(&self) -> &str {
        &self.owner
    }
}

#[async_trait::async_trait]
impl PresenceStore for RedisPresenceStore {
    #[tracing::instrument(name = "redis.presence.open", skip_all, fields(session = %session.id))]
    async fn open(&self, session: &Session) -> Result<usize, PresenceError> {
        let count = self.run_open(session).await?;
        self.local().insert(session.id.clone(), session.clone());
        Ok(count)
    }

    #[tracing::instrument(name = "redis.presence.close", skip_all, fields(session = %id))]
    async fn close(&self, id: &SessionId) -> Result<Option<ClosedSession>, PresenceError> {
        self.local().remove(id);
        let reply = match CLOSE
            .run(
                &self.connection,
                vec![self.keys.session(id)],
                vec![id.to_string(), self.keys.base().to_owned()],
            )
            .await
        {
            Ok(reply) => reply,
            Err(error) => {
                self.abandoned
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(id.clone());
                return Err(PresenceError::Unavailable(error));
            }
        };
        if reply.is_null() {
            return Ok(None);
        }
        decode_closed(id, &reply).map(Some).ok_or_else(|| {
            tracing::warn!(session = %id, ?reply, "removed a malformed session record");
            unexpected("close session", &reply)
        })
    }

    #[tracing::instrument(name = "redis.presence.online_among", skip_all, fields(users = users.len()))]
    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, PresenceError> {
        let mut online = Vec::new();
        for batch in users.chunks(ONLINE_BATCH) {
            let keys = batch.iter().map(|user| self.keys.user(*user)).collect();
            let reply = ONLINE_AMONG
                .run(&self.connection, keys, Vec::new())
                .await
                .map_err(PresenceError::Unavailable)?;
            let Value::Array(flags) = &reply else {
                return Err(unexpected("online among", &reply));
            };
            if flags.len() != batch.len() {
                return Err(unexpected("online among", &reply));
            }
            online.extend(
                batch
                    .iter()
                    .zip(flags)
                    .filter(|(_, flag)| flag.as_i64() == Some(1))
                    .map(|(user, _)| *user),
            );
        }
        Ok(online)
    }

    #[tracing::instrument(name = "redis.presence.renew_lease", skip_all, fields(owner = %self.owner))]
    async fn renew_lease(&self) -> Result<(), PresenceError> {
        let client = self.connection.client();
        let previous: Option<String> = self
            .connection
            .bounded(
                "lease renewal",
                fred::interfaces::KeysInterface::set(
                    client,
                    self.keys.lease(&self.owner),
                    "1",
                    Some(fred::prelude::Expiration::PX(
                        i64::try_from(self.lease_ms).unwrap_or(i64::MAX),
                    )),
                    None,
                    true,
                ),
            )
            .await
            .map_err(PresenceError::Unavailable)?;
        if previous.is_none() && self.lease_held.swap(true, Ordering::Relaxed) {
            // We were too slow (or Redis was away) for a whole lease: other instances may
            // have closed our sessions as orphans, and those users look offline to them.
            tracing::warn!(
                owner = %self.owner,
                "the presence lease had expired before this renewal; other instances may have closed this instance's sessions"
            );
        }
        self.lease_held.store(true, Ordering::Relaxed);
        self.restore_local_sessions().await
    }

    #[tracing::instrument(name = "redis.presence.orphaned_sessions", skip_all)]
    async fn orphaned_sessions(&self) -> Result<Vec<SessionId>, PresenceError> {
        let reply = ORPHANED
            .run(
                &self.connection,
                vec![self.keys.owners()],
                vec![self.keys.base().to_owned(), ORPHAN_BATCH.to_string()],
            )
            .await
            .map_err(PresenceError::Unavailable)?;
        let Value::Array(ids) = reply else {
            return Err(unexpected("orphaned sessions", &reply));
        };
        let abandoned = std::mem::take(
            &mut *self
                .abandoned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        Ok(abandoned
            .into_iter()
            .chain(ids.iter().filter_map(|id| {
                let parsed = id.as_string().and_then(|id| SessionId::parse(&id).ok());
                if parsed.is_none() {
                    tracing::warn!(?id, "skipping a malformed orphaned session id");
                }
                parsed
            }))
            .collect())
    }
}

/// A session count as a script returns it.
fn count(reply: &Value) -> Option<usize> {
    reply.as_u64().and_then(|count| usize::try_from(count).ok())
}

/// `{user id, opened_at, remaining}` from the close script.
fn decode_closed(id: &SessionId, reply: &Value) -> Option<ClosedSession> {
    let Value::Array(fields) = reply else {
        return None;
    };
    let [user, opened_at, remaining] = fields.as_slice() else {
        return None;
    };
    let user = UserId::parse(&user.as_string()?).ok()?;
    let opened_at = opened_at.as_string()?.parse::<i64>().ok()?;
    Some(ClosedSession {
        session: Session {
            id: id.clone(),
            user,
            opened_at: Timestamp::from_unix_micros(opened_at),
        },
        remaining: count(remaining)?,
    })
}

fn unexpected(what: &str, reply: &Value) -> PresenceError {
    PresenceError::Unavailable(anyhow::anyhow!(
        "unexpected Redis reply to {what}: {reply:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Value {
        Value::String(value.into())
    }

    #[test]
    fn a_close_reply_becomes_the_closed_session() {
        let id = SessionId::parse("s1").expect("id");
        let reply = Value::Array(vec![text("7"), text("1500"), Value::Integer(2)]);
        let closed = decode_closed(&id, &reply).expect("decoded");
        assert_eq!(closed.session.user, UserId::new(7));
        assert_eq!(closed.session.opened_at, Timestamp::from_unix_micros(1_500));
        assert_eq!(closed.remaining, 2);
    }

    #[test]
    fn a_malformed_close_reply_is_refused_rather_than_guessed() {
        let id = SessionId::parse("s1").expect("id");
        for reply in [
            Value::Array(vec![text(""), text(""), Value::Integer(0)]),
            Value::Array(vec![text("7"), text("soon"), Value::Integer(0)]),
            Value::Array(vec![text("7"), text("1")]),
            text("7"),
        ] {
            assert!(
                decode_closed(&id, &reply).is_none(),
                "{reply:?} was accepted"
            );
        }
    }
}

//! The HTTP transports' sessions by id: a receiving request or an `xhr_send` finds
//! its session here. (WebSocket sessions live and die with their socket and are not
//! registered: SockJS lets two WebSockets share a session id.)
//!
//! Session ids are chosen by clients, so the registry bounds them: at most
//! `stomp.sockjs.max_sessions` at once, and a session answers only requests from
//! the remote address that opened it; an id in use by another address is refused
//! as unknown, so nobody can feed frames into, or read from, someone else's session.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::session::{SessionInbound, SessionOutbound, SockJsSession};
use crate::caps::CapExceeded;

/// A session found, or one created by this request.
pub(crate) enum Lookup {
    Existing(Arc<SockJsSession>),
    Created(Arc<SockJsSession>, SessionInbound, SessionOutbound),
    /// The id names a session of another address.
    Foreign,
}

struct Entry {
    session: Arc<SockJsSession>,
    owner: Option<IpAddr>,
}

#[derive(Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<String, Entry>>,
}

impl Registry {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session `id`, if `from` opened it.
    pub(crate) fn get(&self, id: &str, from: Option<IpAddr>) -> Option<Arc<SockJsSession>> {
        self.sessions()
            .get(id)
            .filter(|entry| entry.owner == from)
            .map(|entry| entry.session.clone())
    }

    /// The session `id`, created with `open` for `from` when there is none
    /// (atomically, so two racing first requests share one session), unless
    /// `max` sessions (0 = no limit) are open already.
    pub(crate) fn get_or_create(
        &self,
        id: &str,
        from: Option<IpAddr>,
        max: usize,
        open: impl FnOnce() -> (Arc<SockJsSession>, SessionInbound, SessionOutbound),
    ) -> Result<Lookup, CapExceeded> {
        let mut sessions = self.sessions();
        if let Some(entry) = sessions.get(id) {
            return Ok(if entry.owner == from {
                Lookup::Existing(entry.session.clone())
            } else {
                Lookup::Foreign
            });
        }
        if max > 0 && sessions.len() >= max {
            return Err(CapExceeded::SockJsSessions);
        }
        let (session, inbound, outbound) = open();
        sessions.insert(
            id.to_owned(),
            Entry {
                session: session.clone(),
                owner: from,
            },
        );
        Ok(Lookup::Created(session, inbound, outbound))
    }

    /// Forgets `id` if it still names `session`.
    pub(crate) fn remove(&self, id: &str, session: &Arc<SockJsSession>) {
        let mut sessions = self.sessions();
        if sessions
            .get(id)
            .is_some_and(|entry| Arc::ptr_eq(&entry.session, session))
        {
            sessions.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));

    fn open() -> (Arc<SockJsSession>, SessionInbound, SessionOutbound) {
        SockJsSession::open(4, Duration::from_secs(5))
    }

    #[test]
    fn a_session_id_answers_only_the_address_that_opened_it() {
        let registry = Registry::default();
        assert!(matches!(
            registry.get_or_create("abc", HOME, 0, open),
            Ok(Lookup::Created(..))
        ));

        assert!(matches!(
            registry.get_or_create("abc", AWAY, 0, open),
            Ok(Lookup::Foreign)
        ));
        assert!(registry.get("abc", AWAY).is_none());
        assert!(registry.get("abc", HOME).is_some());
        assert!(matches!(
            registry.get_or_create("abc", HOME, 0, open),
            Ok(Lookup::Existing(_))
        ));
    }

    #[test]
    fn no_session_is_created_past_the_cap_until_one_is_forgotten() {
        let registry = Registry::default();
        let Ok(Lookup::Created(first, ..)) = registry.get_or_create("a", HOME, 2, open) else {
            panic!("created");
        };
        assert!(registry.get_or_create("b", AWAY, 2, open).is_ok());

        assert!(matches!(
            registry.get_or_create("c", HOME, 2, open),
            Err(CapExceeded::SockJsSessions)
        ));
        registry.remove("a", &first);
        assert!(matches!(
            registry.get_or_create("c", HOME, 2, open),
            Ok(Lookup::Created(..))
        ));
    }
}

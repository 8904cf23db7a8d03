//! The HTTP transports' sessions by id: a receiving request or an `xhr_send` finds
//! its session here. (WebSocket sessions live and die with their socket and are not
//! registered: SockJS lets two WebSockets share a session id.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::session::{SessionInbound, SessionOutbound, SockJsSession};

/// A session found, or one created by this request.
pub(crate) enum Lookup {
    Existing(Arc<SockJsSession>),
    Created(Arc<SockJsSession>, SessionInbound, SessionOutbound),
}

#[derive(Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<String, Arc<SockJsSession>>>,
}

impl Registry {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Arc<SockJsSession>>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<SockJsSession>> {
        self.sessions().get(id).cloned()
    }

    /// The session `id`, created with `open` when there is none (atomically, so two
    /// racing first requests share one session).
    pub(crate) fn get_or_create(
        &self,
        id: &str,
        open: impl FnOnce() -> (Arc<SockJsSession>, SessionInbound, SessionOutbound),
    ) -> Lookup {
        let mut sessions = self.sessions();
        if let Some(session) = sessions.get(id) {
            return Lookup::Existing(session.clone());
        }
        let (session, inbound, outbound) = open();
        sessions.insert(id.to_owned(), session.clone());
        Lookup::Created(session, inbound, outbound)
    }

    /// Forgets `id` if it still names `session`.
    pub(crate) fn remove(&self, id: &str, session: &Arc<SockJsSession>) {
        let mut sessions = self.sessions();
        if sessions.get(id).is_some_and(|s| Arc::ptr_eq(s, session)) {
            sessions.remove(id);
        }
    }
}

//! Caps on what clients may hold open on this instance: sockets in all (WebSocket
//! connections and SockJS sessions, so the process keeps file descriptors to spare),
//! sockets per remote address, sockets that have not completed CONNECT yet, and STOMP
//! sessions per user.
//!
//! Each admitted socket or session is a permit that gives its place back when
//! dropped, so no way out of a session (error, shutdown, a dropped task) can leak
//! a count. Every refusal is counted in `stomp_connections_refused_total{reason}`;
//! the log gets at most one line per reason a second, so a storm of refusals (the
//! very moment the caps are for) does not flood it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use domain::UserId;
use metric_names::stomp as metric;

use crate::log_throttle::{LOG_EVERY, LogThrottle};

/// How many of each thing may be open at once (0 = no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CapLimits {
    /// Sockets on this instance, whatever their address or state.
    pub(crate) total: usize,
    pub(crate) per_address: usize,
    pub(crate) unauthenticated: usize,
    pub(crate) per_user: usize,
}

/// Which cap a new socket or session hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapExceeded {
    /// Too many sockets on this instance.
    Total,
    /// Too many sockets from one remote address.
    Address,
    /// Too many sockets waiting for CONNECT.
    Unauthenticated,
    /// Too many sessions of one user.
    User,
    /// Too many SockJS HTTP sessions.
    SockJsSessions,
}

impl CapExceeded {
    const ALL: [Self; 5] = [
        Self::Total,
        Self::Address,
        Self::Unauthenticated,
        Self::User,
        Self::SockJsSessions,
    ];

    /// The `reason` label of the refusal counter.
    pub(crate) const fn reason(self) -> &'static str {
        match self {
            Self::Total => "max_connections",
            Self::Address => "per_address",
            Self::Unauthenticated => "unauthenticated",
            Self::User => "per_user",
            Self::SockJsSessions => "sockjs_sessions",
        }
    }

    /// What the client is told.
    pub(crate) const fn message(self) -> &'static str {
        match self {
            Self::Total => "the server is at its connection limit; retry later",
            Self::Address => "too many connections from this address",
            Self::Unauthenticated => "too many connections waiting for CONNECT; retry later",
            Self::User => "too many connections of this user",
            Self::SockJsSessions => "too many SockJS sessions; retry later",
        }
    }

    /// Its place in [`Self::ALL`] (the declaration order).
    const fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    per_address: HashMap<IpAddr, usize>,
    unauthenticated: usize,
    per_user: HashMap<UserId, usize>,
}

/// The open sockets and sessions of this instance, against their caps.
#[derive(Debug)]
pub(crate) struct ConnectionCaps {
    limits: CapLimits,
    counts: Mutex<Counts>,
    /// One per [`CapExceeded`], in the order of [`CapExceeded::ALL`].
    refusal_logs: [LogThrottle; CapExceeded::ALL.len()],
}

fn under(limit: usize, count: usize) -> bool {
    limit == 0 || count < limit
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = map.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            map.remove(key);
        }
    }
}

impl ConnectionCaps {
    pub(crate) fn new(limits: CapLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::new(Counts::default()),
            refusal_logs: std::array::from_fn(|_| LogThrottle::new(LOG_EVERY)),
        })
    }

    /// Counts a refusal over `cap` and logs it, at most once a second per cap (the
    /// line says how many refusals since the last one went unlogged).
    pub(crate) fn record_refusal(&self, cap: CapExceeded) {
        metrics::counter!(metric::CONNECTIONS_REFUSED, metric::REASON => cap.reason()).increment(1);
        if let Some(unlogged) = self.refusal_logs[cap.index()].admit() {
            if cap == CapExceeded::Total {
                tracing::warn!(
                    reason = cap.reason(),
                    max_connections = self.limits.total,
                    unlogged,
                    "connection refused: the server is at its connection limit"
                );
            } else {
                tracing::info!(
                    reason = cap.reason(),
                    unlogged,
                    "connection refused over a cap"
                );
            }
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a new socket from `address` (unknown: only the global caps apply); it
    /// counts as unauthenticated until [`SocketPermit::authenticated`].
    pub(crate) fn admit_socket(
        self: &Arc<Self>,
        address: Option<IpAddr>,
    ) -> Result<SocketPermit, CapExceeded> {
        let mut counts = self.counts();
        if !under(self.limits.total, counts.open) {
            return Err(CapExceeded::Total);
        }
        if let Some(ip) = address
            && !under(
                self.limits.per_address,
                counts.per_address.get(&ip).copied().unwrap_or(0),
            )
        {
            return Err(CapExceeded::Address);
        }
        if !under(self.limits.unauthenticated, counts.unauthenticated) {
            return Err(CapExceeded::Unauthenticated);
        }
        counts.unauthenticated += 1;
        counts.open += 1;
        if let Some(ip) = address {
            *counts.per_address.entry(ip).or_default() += 1;
        }
        Ok(SocketPermit {
            caps: self.clone(),
            address,
            unauthenticated: true,
        })
    }

    /// Admits one more session of `user`.
    pub(crate) fn admit_user(self: &Arc<Self>, user: UserId) -> Result<UserPermit, CapExceeded> {
        let mut counts = self.counts();
        let count = counts.per_user.entry(user).or_default();
        if !under(self.limits.per_user, *count) {
            if *count == 0 {
                counts.per_user.remove(&user);
            }
            return Err(CapExceeded::User);
        }
        *count += 1;
        Ok(UserPermit {
            caps: self.clone(),
            user,
        })
    }
}

/// One open socket's place under the caps.
#[derive(Debug)]
pub(crate) struct SocketPermit {
    caps: Arc<ConnectionCaps>,
    address: Option<IpAddr>,
    unauthenticated: bool,
}

impl SocketPermit {
    /// The socket completed CONNECT: it no longer counts as unauthenticated.
    pub(crate) fn authenticated(&mut self) {
        if std::mem::take(&mut self.unauthenticated) {
            let mut counts = self.caps.counts();
            counts.unauthenticated = counts.unauthenticated.saturating_sub(1);
        }
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = self.caps.counts();
        counts.open = counts.open.saturating_sub(1);
        if self.unauthenticated {
            counts.unauthenticated = counts.unauthenticated.saturating_sub(1);
        }
        if let Some(ip) = self.address {
            release(&mut counts.per_address, &ip);
        }
    }
}

/// One session's place under its user's cap.
#[derive(Debug)]
pub(crate) struct UserPermit {
    caps: Arc<ConnectionCaps>,
    user: UserId,
}

impl Drop for UserPermit {
    fn drop(&mut self) {
        release(&mut self.caps.counts().per_user, &self.user);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));

    fn caps(per_address: usize, unauthenticated: usize, per_user: usize) -> Arc<ConnectionCaps> {
        ConnectionCaps::new(CapLimits {
            total: 0,
            per_address,
            unauthenticated,
            per_user,
        })
    }

    #[test]
    fn an_address_over_its_cap_is_refused_while_others_are_not() {
        let caps = caps(2, 0, 0);
        let _one = caps.admit_socket(HOME).expect("first");
        let two = caps.admit_socket(HOME).expect("second");

        assert_eq!(caps.admit_socket(HOME).map(drop), Err(CapExceeded::Address));
        assert!(caps.admit_socket(AWAY).is_ok());

        drop(two);
        assert!(
            caps.admit_socket(HOME).is_ok(),
            "a closed socket frees its place"
        );
    }

    #[test]
    fn only_sockets_still_waiting_for_connect_count_as_unauthenticated() {
        let caps = caps(0, 1, 0);
        let mut first = caps.admit_socket(HOME).expect("first");

        assert_eq!(
            caps.admit_socket(AWAY).map(drop),
            Err(CapExceeded::Unauthenticated)
        );
        first.authenticated();
        let _second = caps.admit_socket(AWAY).expect("room again");
        drop(first);
        assert_eq!(
            caps.admit_socket(HOME).map(drop),
            Err(CapExceeded::Unauthenticated),
            "an authenticated socket's close does not free an unauthenticated place"
        );
    }

    #[test]
    fn a_user_over_the_session_cap_is_refused_until_one_session_ends() {
        let caps = caps(0, 0, 2);
        let alice = UserId::new(1);
        let first = caps.admit_user(alice).expect("first");
        let _second = caps.admit_user(alice).expect("second");

        assert_eq!(caps.admit_user(alice).map(drop), Err(CapExceeded::User));
        assert!(caps.admit_user(UserId::new(2)).is_ok());

        drop(first);
        assert!(caps.admit_user(alice).is_ok());
    }

    #[test]
    fn sockets_over_the_total_are_refused_whatever_their_address_until_one_closes() {
        let caps = ConnectionCaps::new(CapLimits {
            total: 2,
            per_address: 0,
            unauthenticated: 0,
            per_user: 0,
        });
        let mut first = caps.admit_socket(HOME).expect("first");
        let _second = caps.admit_socket(AWAY).expect("second");
        first.authenticated();

        assert_eq!(caps.admit_socket(AWAY).map(drop), Err(CapExceeded::Total));
        assert_eq!(
            caps.admit_socket(None).map(drop),
            Err(CapExceeded::Total),
            "authenticated sockets count too"
        );

        drop(first);
        assert!(
            caps.admit_socket(AWAY).is_ok(),
            "a closed socket frees its place"
        );
    }

    #[test]
    fn every_cap_has_its_own_reason() {
        let reasons: std::collections::HashSet<_> =
            CapExceeded::ALL.iter().map(|cap| cap.reason()).collect();
        assert_eq!(reasons.len(), CapExceeded::ALL.len());
        for (index, cap) in CapExceeded::ALL.iter().enumerate() {
            assert_eq!(cap.index(), index);
        }
    }

    #[test]
    fn zero_means_no_cap() {
        let caps = caps(0, 0, 0);
        let permits: Vec<_> = (0..1000)
            .map(|_| caps.admit_socket(HOME).expect("admitted"))
            .collect();
        assert_eq!(permits.len(), 1000);
    }
}

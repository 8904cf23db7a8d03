//! Contract suite of the `PresenceStore` port: open sessions, who is online, and (for stores
//! shared by several instances) leases and orphaned sessions.
//!
//! Each behaviour takes freshly built stores that share nothing with other tests; the
//! single-store ones hold for every adapter, the `shared_…` ones for adapters that several
//! instances use at once (Redis).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use application::ports::outbound::PresenceStore;
use domain::{Session, SessionId, Timestamp, UserId};

use crate::services::unique_name;
use crate::unique_id;

/// A session of `user` with an id no other test uses.
pub fn new_session(user: UserId) -> Session {
    Session {
        id: SessionId::parse(&unique_name("s")).expect("a valid session id"),
        user,
        opened_at: Timestamp::from_unix_micros(1_700_000_000_123_456),
    }
}

fn new_user() -> UserId {
    UserId::new(unique_id())
}

/// `open` answers how many sessions the user now has; `close` how many remain.
pub async fn opening_and_closing_count_the_sessions_of_a_user(store: impl PresenceStore) {
    let user = new_user();
    let (first, second) = (new_session(user), new_session(user));
    assert_eq!(store.open(&first).await.expect("open"), 1, "first session");
    assert_eq!(
        store.open(&second).await.expect("open"),
        2,
        "second session"
    );
    assert_eq!(
        store.open(&new_session(new_user())).await.expect("open"),
        1,
        "another user's sessions are counted apart"
    );

    let closed = store
        .close(&first.id)
        .await
        .expect("close")
        .expect("an open session closes");
    assert_eq!(closed.session, first, "close returns the session as opened");
    assert_eq!(closed.remaining, 1);
    let closed = store
        .close(&second.id)
        .await
        .expect("close")
        .expect("an open session closes");
    assert_eq!(closed.remaining, 0, "the user is offline now");
}

/// Opening a session that is already open changes nothing.
pub async fn opening_the_same_session_twice_counts_it_once(store: impl PresenceStore) {
    let session = new_session(new_user());
    assert_eq!(store.open(&session).await.expect("open"), 1);
    assert_eq!(store.open(&session).await.expect("open again"), 1);
    let closed = store.close(&session.id).await.expect("close");
    assert_eq!(closed.map(|closed| closed.remaining), Some(0));
}

/// A second close of the same session (a second disconnect) reports nothing.
pub async fn a_second_close_of_the_same_session_returns_none(store: impl PresenceStore) {
    let session = new_session(new_user());
    store.open(&session).await.expect("open");
    assert!(store.close(&session.id).await.expect("close").is_some());
    assert_eq!(
        store.close(&session.id).await.expect("second close"),
        None,
        "the second close must report nothing"
    );
}

/// Closing a session that was never opened reports nothing.
pub async fn closing_an_unknown_session_returns_none(store: impl PresenceStore) {
    let unknown = new_session(new_user());
    assert_eq!(store.close(&unknown.id).await.expect("close"), None);
}

/// `online_among` keeps exactly the users with an open session, in the order asked.
pub async fn online_among_lists_exactly_the_users_with_an_open_session(store: impl PresenceStore) {
    let (online_a, offline, online_b, gone) = (new_user(), new_user(), new_user(), new_user());
    store.open(&new_session(online_a)).await.expect("open");
    store.open(&new_session(online_b)).await.expect("open");
    let left = new_session(gone);
    store.open(&left).await.expect("open");
    store.close(&left.id).await.expect("close");

    let asked = [online_b, offline, gone, online_a];
    assert_eq!(
        store.online_among(&asked).await.expect("online among"),
        vec![online_b, online_a]
    );
    assert!(store.online_among(&[]).await.expect("nobody").is_empty());
}

/// A user with several sessions stays online until the last one closes.
pub async fn a_user_stays_online_until_their_last_session_closes(store: impl PresenceStore) {
    let user = new_user();
    let sessions = [new_session(user), new_session(user), new_session(user)];
    for session in &sessions {
        store.open(session).await.expect("open");
    }
    for (closed, session) in sessions.iter().enumerate() {
        assert_eq!(
            store.online_among(&[user]).await.expect("online among"),
            vec![user],
            "online with {closed} of 3 sessions closed"
        );
        store.close(&session.id).await.expect("close");
    }
    assert!(
        store
            .online_among(&[user])
            .await
            .expect("online among")
            .is_empty(),
        "offline once every session closed"
    );
}

/// A store that renews its lease never finds its own sessions orphaned.
pub async fn a_renewing_store_finds_none_of_its_own_sessions_orphaned(store: impl PresenceStore) {
    store.renew_lease().await.expect("renew");
    let session = new_session(new_user());
    store.open(&session).await.expect("open");
    store.renew_lease().await.expect("renew");
    let orphans = store.orphaned_sessions().await.expect("orphans");
    assert!(
        !orphans.contains(&session.id),
        "a live store's session was listed as orphaned"
    );
}

/// Two instances' stores see each other's sessions: a user is online through either, and a
/// session opened on one instance can be closed (once) on the other.
pub async fn shared_stores_of_two_instances_see_each_others_sessions(
    a: impl PresenceStore,
    b: impl PresenceStore,
) {
    let user = new_user();
    let on_a = new_session(user);
    let on_b = new_session(user);
    assert_eq!(a.open(&on_a).await.expect("open on A"), 1);
    assert_eq!(
        b.open(&on_b).await.expect("open on B"),
        2,
        "B counts A's session"
    );
    assert_eq!(b.online_among(&[user]).await.expect("online"), vec![user]);

    let closed = b
        .close(&on_a.id)
        .await
        .expect("close on B")
        .expect("B closes a session opened on A");
    assert_eq!(closed.session, on_a);
    assert_eq!(closed.remaining, 1);
    assert_eq!(a.close(&on_a.id).await.expect("close on A"), None);
    assert_eq!(a.online_among(&[user]).await.expect("online"), vec![user]);

    let closed = a.close(&on_b.id).await.expect("close on A");
    assert_eq!(closed.map(|closed| closed.remaining), Some(0));
    assert!(b.online_among(&[user]).await.expect("online").is_empty());
}

/// Two instances closing the same session at the same moment: exactly one gets it.
pub async fn shared_concurrent_closes_from_two_instances_yield_exactly_one_session(
    a: impl PresenceStore,
    b: impl PresenceStore,
) {
    const ROUNDS: usize = 50;
    let user = new_user();
    let sessions: Vec<Session> = (0..ROUNDS).map(|_| new_session(user)).collect();
    for session in &sessions {
        a.open(session).await.expect("open");
    }
    let mut remaining = HashSet::new();
    for session in &sessions {
        let (on_a, on_b) = tokio::join!(a.close(&session.id), b.close(&session.id));
        let winners: Vec<_> = [on_a.expect("close on A"), on_b.expect("close on B")]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "session {} was closed {} times",
            session.id,
            winners.len()
        );
        remaining.insert(winners[0].remaining);
    }
    // Every close saw a different number of sessions left: none was counted twice.
    assert_eq!(remaining, (0..ROUNDS).collect());
}

/// An instance that stops renewing its lease (it died): once the lease ran out, another
/// instance finds its sessions orphaned, and closing each claims it exactly once.
pub async fn shared_sessions_of_an_instance_that_stops_renewing_become_orphans(
    dead: impl PresenceStore,
    survivor: impl PresenceStore,
    dead_lease: Duration,
) {
    dead.renew_lease().await.expect("renew");
    survivor.renew_lease().await.expect("renew");
    let user = new_user();
    let sessions: Vec<Session> = (0..3).map(|_| new_session(user)).collect();
    for session in &sessions {
        dead.open(session).await.expect("open");
    }
    let orphans = survivor.orphaned_sessions().await.expect("orphans");
    assert!(
        sessions
            .iter()
            .all(|session| !orphans.contains(&session.id)),
        "sessions were orphaned while their lease was alive"
    );

    // `dead` stops renewing here.
    let deadline = Instant::now() + dead_lease + Duration::from_secs(5);
    let orphans = loop {
        let orphans = survivor.orphaned_sessions().await.expect("orphans");
        if sessions.iter().all(|session| orphans.contains(&session.id)) {
            break orphans;
        }
        assert!(
            Instant::now() < deadline,
            "the sessions were not orphaned after the lease ran out (found {orphans:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ours: Vec<&SessionId> = orphans
        .iter()
        .filter(|id| sessions.iter().any(|session| session.id == **id))
        .collect();
    assert_eq!(ours.len(), 3, "each orphan is listed once");

    for session in &sessions {
        let claimed = survivor.close(&session.id).await.expect("claim");
        assert_eq!(
            claimed.map(|closed| closed.session),
            Some(session.clone()),
            "the first close claims the orphan"
        );
        assert_eq!(
            survivor.close(&session.id).await.expect("claim again"),
            None
        );
    }
    assert!(
        survivor
            .online_among(&[user])
            .await
            .expect("online")
            .is_empty(),
        "the dead instance's user is offline once its sessions are claimed"
    );
    let orphans = survivor.orphaned_sessions().await.expect("orphans");
    assert!(
        sessions
            .iter()
            .all(|session| !orphans.contains(&session.id)),
        "claimed sessions are orphans no more"
    );
}

/// An instance that keeps renewing (every third of its lease, as bootstrap does) never has its
/// sessions listed as orphans, however long it lives.
pub async fn shared_sessions_of_a_renewing_instance_are_never_orphans(
    live: impl PresenceStore,
    other: impl PresenceStore,
    live_lease: Duration,
    watch_for: Duration,
) {
    live.renew_lease().await.expect("renew");
    let session = new_session(new_user());
    live.open(&session).await.expect("open");
    let period = live_lease / 3;
    let mut next_renewal = Instant::now() + period;
    let end = Instant::now() + watch_for;
    while Instant::now() < end {
        if Instant::now() >= next_renewal {
            live.renew_lease().await.expect("renew");
            next_renewal += period;
        }
        let orphans = other.orphaned_sessions().await.expect("orphans");
        assert!(
            !orphans.contains(&session.id),
            "a renewing instance's session was listed as orphaned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(live.close(&session.id).await.expect("close").is_some());
}

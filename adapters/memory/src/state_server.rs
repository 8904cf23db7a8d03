//! A stand-in for the app's external state server, with its behaviour: logged-in
//! sessions, each user's location, and who is in which voice channel.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use application::ports::outbound::{GatewayError, SessionStateGateway};
use domain::{
    ChannelId, CommunityId, Location, LocationChange, Session, SessionId, UserId, VoiceOccupancy,
};

use crate::lock;

/// Voice channels listed (occupied or not) over every community. Channels are what clients
/// name, so past this the empty ones are forgotten (occupied ones are at most one per user
/// in voice).
const MAX_VOICE_CHANNELS: usize = 100_000;

#[derive(Debug)]
struct State {
    sessions: HashMap<SessionId, UserId>,
    /// Logged-in sessions per user.
    per_user: HashMap<UserId, usize>,
    /// Where each logged-in user is.
    locations: HashMap<UserId, Location>,
    /// Voice channels that have been used, per community, with who is in them.
    voice: HashMap<CommunityId, BTreeMap<ChannelId, BTreeSet<UserId>>>,
    /// Channels listed in `voice`.
    voice_channels: usize,
    max_voice_channels: usize,
    /// The voice channel each user is in, so leaving it looks nothing up.
    in_voice: HashMap<UserId, (CommunityId, ChannelId)>,
}

impl State {
    fn new(max_voice_channels: usize) -> Self {
        Self {
            sessions: HashMap::new(),
            per_user: HashMap::new(),
            locations: HashMap::new(),
            voice: HashMap::new(),
            voice_channels: 0,
            max_voice_channels: max_voice_channels.max(1),
            in_voice: HashMap::new(),
        }
    }

    fn leave_voice(&mut self, user: UserId) {
        if let Some((community, channel)) = self.in_voice.remove(&user)
            && let Some(members) = self
                .voice
                .get_mut(&community)
                .and_then(|channels| channels.get_mut(&channel))
        {
            members.remove(&user);
        }
    }

    fn join_voice(&mut self, user: UserId, community: CommunityId, channel: ChannelId) {
        let listed = self
            .voice
            .get(&community)
            .is_some_and(|channels| channels.contains_key(&channel));
        if !listed && self.voice_channels >= self.max_voice_channels {
            self.forget_empty_voice_channels();
        }
        let channels = self.voice.entry(community).or_default();
        let members = channels.entry(channel).or_insert_with(|| {
            self.voice_channels += 1;
            BTreeSet::new()
        });
        members.insert(user);
        self.in_voice.insert(user, (community, channel));
    }

    /// Forgets every voice channel nobody is in (they are listed again once entered).
    fn forget_empty_voice_channels(&mut self) {
        for channels in self.voice.values_mut() {
            channels.retain(|_, members| !members.is_empty());
        }
        self.voice.retain(|_, channels| !channels.is_empty());
        self.voice_channels = self.voice.values().map(BTreeMap::len).sum();
    }

    fn occupancy(&self, community: CommunityId) -> VoiceOccupancy {
        VoiceOccupancy {
            community,
            channels: self
                .voice
                .get(&community)
                .map(|channels| {
                    channels
                        .iter()
                        .map(|(channel, members)| (*channel, members.iter().copied().collect()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The embedded state server.
#[derive(Debug)]
pub struct MemoryStateServer {
    state: Mutex<State>,
}

impl MemoryStateServer {
    fn with_max_voice_channels(max_voice_channels: usize) -> Self {
        Self {
            state: Mutex::new(State::new(max_voice_channels)),
        }
    }

    /// The user of a logged-in session.
    #[cfg(test)]
    pub fn user_of(&self, session: &SessionId) -> Option<UserId> {
        lock(&self.state).sessions.get(session).copied()
    }

    /// Where a logged-in user is.
    #[cfg(test)]
    pub fn location_of(&self, user: UserId) -> Option<Location> {
        lock(&self.state).locations.get(&user).copied()
    }
}

impl Default for MemoryStateServer {
    fn default() -> Self {
        Self::with_max_voice_channels(MAX_VOICE_CHANNELS)
    }
}

#[async_trait::async_trait]
impl SessionStateGateway for MemoryStateServer {
    async fn login(&self, session: &Session) -> Result<(), GatewayError> {
        let mut state = lock(&self.state);
        if state
            .sessions
            .insert(session.id.clone(), session.user)
            .is_none()
        {
            *state.per_user.entry(session.user).or_default() += 1;
        }
        state.locations.insert(session.user, Location::Home);
        Ok(())
    }

    async fn logout(&self, session: &SessionId) -> Result<Option<Location>, GatewayError> {
        let mut state = lock(&self.state);
        let Some(user) = state.sessions.remove(session) else {
            return Ok(None);
        };
        let last = state.locations.get(&user).copied();
        let remaining = state.per_user.get_mut(&user).map_or(0, |count| {
            *count = count.saturating_sub(1);
            *count
        });
        if remaining == 0 {
            state.per_user.remove(&user);
            state.locations.remove(&user);
            state.leave_voice(user);
        }
        Ok(last)
    }

    /// A user with no logged-in session has no location: the change is answered but not kept.
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, GatewayError> {
        let mut state = lock(&self.state);
        let previous = if state.per_user.contains_key(&user) {
            state.locations.insert(user, to)
        } else {
            None
        };
        Ok(LocationChange {
            previous,
            current: to,
        })
    }

    async fn before_enter(
        &self,
        user: UserId,
        community: CommunityId,
    ) -> Result<VoiceOccupancy, GatewayError> {
        let mut state = lock(&self.state);
        state.leave_voice(user);
        Ok(state.occupancy(community))
    }

    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: ChannelId,
    ) -> Result<VoiceOccupancy, GatewayError> {
        let mut state = lock(&self.state);
        state.leave_voice(user);
        state.join_voice(user, community, channel);
        Ok(state.occupancy(community))
    }
}

#[cfg(test)]
mod tests {
    use domain::{RoomId, Timestamp};

    use super::*;

    fn session(id: &str, user: u64) -> Session {
        Session {
            id: SessionId::parse(id).expect("id"),
            user: UserId::new(user),
            opened_at: Timestamp::from_unix_micros(0),
        }
    }

    #[tokio::test]
    async fn a_logged_in_session_is_known_until_it_logs_out() {
        let server = MemoryStateServer::default();
        let session = session("s", 7);
        server.login(&session).await.expect("login");
        assert_eq!(server.user_of(&session.id), Some(UserId::new(7)));
        server.logout(&session.id).await.expect("logout");
        assert_eq!(server.user_of(&session.id), None);
    }

    #[tokio::test]
    async fn a_location_change_reports_where_the_user_was() {
        let server = MemoryStateServer::default();
        let user = UserId::new(1);
        server.login(&session("s", 1)).await.expect("login");

        let change = server
            .change_location(user, Location::Room(RoomId::new(5)))
            .await
            .expect("moved");

        assert_eq!(change.previous, Some(Location::Home));
        assert_eq!(
            server.location_of(user),
            Some(Location::Room(RoomId::new(5)))
        );
    }

    #[tokio::test]
    async fn voice_occupancy_follows_enter_before_enter_and_logout() {
        let server = MemoryStateServer::default();
        let community = CommunityId::new(3);
        let (alice, bob) = (UserId::new(1), UserId::new(2));
        server.login(&session("a", 1)).await.expect("login");

        server
            .enter_voice(alice, community, ChannelId::new(12))
            .await
            .expect("enter");
        let both = server
            .enter_voice(bob, community, ChannelId::new(12))
            .await
            .expect("enter");
        let moved = server
            .enter_voice(alice, community, ChannelId::new(13))
            .await
            .expect("enter");
        let left = server
            .before_enter(bob, community)
            .await
            .expect("before-enter");
        server
            .logout(&SessionId::parse("a").expect("id"))
            .await
            .expect("logout");
        let empty = server
            .before_enter(bob, community)
            .await
            .expect("before-enter");

        assert_eq!(both.channels[&ChannelId::new(12)], vec![alice, bob]);
        assert_eq!(moved.channels[&ChannelId::new(12)], vec![bob]);
        assert_eq!(moved.channels[&ChannelId::new(13)], vec![alice]);
        assert!(left.channels[&ChannelId::new(12)].is_empty());
        assert!(
            empty.channels.values().all(Vec::is_empty),
            "channels stay listed, empty"
        );
    }

    #[tokio::test]
    async fn a_user_leaves_voice_when_their_last_session_logs_out() {
        let server = MemoryStateServer::default();
        let community = CommunityId::new(3);
        let alice = UserId::new(1);
        server.login(&session("a", 1)).await.expect("login");
        server.login(&session("b", 1)).await.expect("login");
        server
            .enter_voice(alice, community, ChannelId::new(12))
            .await
            .expect("enter");

        server
            .logout(&SessionId::parse("a").expect("id"))
            .await
            .expect("logout");
        let one_left = server
            .before_enter(UserId::new(2), community)
            .await
            .expect("before-enter");
        server
            .logout(&SessionId::parse("b").expect("id"))
            .await
            .expect("logout");
        let none_left = server
            .before_enter(UserId::new(2), community)
            .await
            .expect("before-enter");

        assert_eq!(one_left.channels[&ChannelId::new(12)], vec![alice]);
        assert!(none_left.channels[&ChannelId::new(12)].is_empty());
        assert_eq!(server.location_of(alice), None);
    }

    #[tokio::test]
    async fn past_the_bound_empty_voice_channels_are_forgotten_and_occupied_ones_kept() {
        let server = MemoryStateServer::with_max_voice_channels(3);
        let community = CommunityId::new(3);
        let (alice, bob) = (UserId::new(1), UserId::new(2));
        for channel in [10, 11] {
            server
                .enter_voice(bob, community, ChannelId::new(channel))
                .await
                .expect("enter");
        }
        server
            .enter_voice(alice, community, ChannelId::new(12))
            .await
            .expect("enter");

        let after = server
            .enter_voice(bob, community, ChannelId::new(13))
            .await
            .expect("enter");

        let listed: Vec<u64> = after.channels.keys().map(|c| c.get()).collect();
        assert_eq!(
            listed,
            [12, 13],
            "bob left 11 for 13, so 10 and 11 were empty when 13 came"
        );
    }

    #[tokio::test]
    async fn a_user_who_is_not_logged_in_has_no_location() {
        let server = MemoryStateServer::default();
        let user = UserId::new(1);

        let change = server
            .change_location(user, Location::Room(RoomId::new(5)))
            .await
            .expect("answered");

        assert_eq!(change.previous, None);
        assert_eq!(server.location_of(user), None);
    }
}

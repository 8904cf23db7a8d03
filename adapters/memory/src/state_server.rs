//! A stand-in for the app's external state server, with its behaviour: logged-in
//! sessions, each user's location, and who is in which voice channel.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use application::ports::outbound::{GatewayError, SessionStateGateway};
use domain::{
    ChannelId, CommunityId, Location, LocationChange, Session, SessionId, UserId, VoiceOccupancy,
};

use crate::lock;

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<SessionId, UserId>,
    locations: HashMap<UserId, Location>,
    /// Voice channels that have been used, per community, with who is in them.
    voice: HashMap<CommunityId, BTreeMap<ChannelId, BTreeSet<UserId>>>,
}

impl State {
    fn leave_voice(&mut self, user: UserId) {
        for channels in self.voice.values_mut() {
            for members in channels.values_mut() {
                members.remove(&user);
            }
        }
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
#[derive(Debug, Default)]
pub struct MemoryStateServer {
    state: Mutex<State>,
}

impl MemoryStateServer {
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

#[async_trait::async_trait]
impl SessionStateGateway for MemoryStateServer {
    async fn login(&self, session: &Session) -> Result<(), GatewayError> {
        let mut state = lock(&self.state);
        state.sessions.insert(session.id.clone(), session.user);
        state.locations.insert(session.user, Location::Home);
        Ok(())
    }

    async fn logout(&self, session: &SessionId) -> Result<Option<Location>, GatewayError> {
        let mut state = lock(&self.state);
        let Some(user) = state.sessions.remove(session) else {
            return Ok(None);
        };
        let last = state.locations.get(&user).copied();
        if !state.sessions.values().any(|u| *u == user) {
            state.locations.remove(&user);
            state.leave_voice(user);
        }
        Ok(last)
    }

    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, GatewayError> {
        let previous = lock(&self.state).locations.insert(user, to);
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
        state
            .voice
            .entry(community)
            .or_default()
            .entry(channel)
            .or_default()
            .insert(user);
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
}

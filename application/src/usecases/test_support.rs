//! Mocks of every port and the fixtures the use-case tests share.

use std::sync::Arc;

use domain::{
    ChannelId, ClientMsgId, CommunityId, MessageBody, MessageId, NewMessage, RoomId, RoomRef, Seq,
    SessionId, Timestamp, UserId, UserProfile,
};

use crate::ports::outbound::{
    MockClock, MockCommunityDirectory, MockEventBus, MockFileStore, MockIdGenerator,
    MockMessageStore, MockPresenceStore, MockRateLimiter, MockReadMarkers, MockRoomBroadcaster,
    MockSessionStateGateway, MockTokenVerifier, MockUserDirectory, StoreError,
};

pub(crate) const ALICE: UserId = UserId::new(1);
pub(crate) const BOB: UserId = UserId::new(2);
pub(crate) const DM: RoomRef = RoomRef::Direct(RoomId::new(5));
pub(crate) const OTHER_DM: RoomRef = RoomRef::Direct(RoomId::new(6));
/// Community 3, which channel 12 belongs to (as the directory says).
pub(crate) const COMMUNITY: CommunityId = CommunityId::new(3);
pub(crate) const OTHER_COMMUNITY: CommunityId = CommunityId::new(4);
pub(crate) const CHANNEL_ID: ChannelId = ChannelId::new(12);
pub(crate) const CHANNEL: RoomRef = RoomRef::Channel {
    community: COMMUNITY,
    channel: CHANNEL_ID,
};
/// The random key the mocked id generator gives every file.
pub(crate) const FILE_KEY: &str = "0123456789abcdef0123456789abcdef";
pub(crate) const NOW: Timestamp = Timestamp::from_unix_micros(1_700_000_000_000_000);

/// Every port as a mock, shared as the use cases hold them.
pub(crate) struct Mocks {
    pub(crate) store: Arc<MockMessageStore>,
    pub(crate) markers: Arc<MockReadMarkers>,
    pub(crate) bus: Arc<MockEventBus>,
    pub(crate) presence: Arc<MockPresenceStore>,
    pub(crate) state: Arc<MockSessionStateGateway>,
    pub(crate) directory: Arc<MockCommunityDirectory>,
    pub(crate) users: Arc<MockUserDirectory>,
    pub(crate) tokens: Arc<MockTokenVerifier>,
    pub(crate) clock: Arc<MockClock>,
    pub(crate) ids: Arc<MockIdGenerator>,
    pub(crate) limiter: Arc<MockRateLimiter>,
    pub(crate) files: Arc<MockFileStore>,
    pub(crate) broadcaster: Arc<MockRoomBroadcaster>,
}

/// Mocks still open to expectations; clock, ids and user profiles are preset.
pub(crate) struct MocksBuilder {
    pub(crate) store: MockMessageStore,
    pub(crate) markers: MockReadMarkers,
    pub(crate) bus: MockEventBus,
    pub(crate) presence: MockPresenceStore,
    pub(crate) state: MockSessionStateGateway,
    pub(crate) directory: MockCommunityDirectory,
    pub(crate) users: MockUserDirectory,
    pub(crate) tokens: MockTokenVerifier,
    pub(crate) clock: MockClock,
    pub(crate) ids: MockIdGenerator,
    pub(crate) limiter: MockRateLimiter,
    pub(crate) files: MockFileStore,
    pub(crate) broadcaster: MockRoomBroadcaster,
}

impl MocksBuilder {
    pub(crate) fn new() -> Self {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        let mut ids = MockIdGenerator::new();
        ids.expect_message_id()
            .returning(|| MessageId::parse("000000000000000000000042").expect("id"));
        ids.expect_session_id()
            .returning(|| SessionId::parse("session-1").expect("id"));
        ids.expect_file_key().returning(|| FILE_KEY.to_owned());
        let mut users = MockUserDirectory::new();
        users.expect_profile().returning(|id| Ok(profile(id)));
        Self {
            store: MockMessageStore::new(),
            markers: MockReadMarkers::new(),
            bus: MockEventBus::new(),
            presence: MockPresenceStore::new(),
            state: MockSessionStateGateway::new(),
            directory: MockCommunityDirectory::new(),
            users,
            tokens: MockTokenVerifier::new(),
            clock,
            ids,
            limiter: MockRateLimiter::new(),
            files: MockFileStore::new(),
            broadcaster: MockRoomBroadcaster::new(),
        }
    }

    /// The directory places channel 12 in community 3 and knows no other channel.
    pub(crate) fn channel_12_of_community_3(&mut self) {
        self.directory
            .expect_channel_community()
            .returning(|channel| Ok((channel == CHANNEL_ID).then_some(COMMUNITY)));
    }

    /// The directory lets everyone post and listen everywhere (channel 12 is community 3's).
    pub(crate) fn member_everywhere(mut self) -> Self {
        self.channel_12_of_community_3();
        self.directory.expect_may_post().returning(|_, _| Ok(true));
        self.directory
            .expect_may_listen()
            .returning(|_, _| Ok(true));
        self
    }

    /// The directory lets nobody post or listen anywhere (channel 12 is community 3's).
    pub(crate) fn member_nowhere(mut self) -> Self {
        self.channel_12_of_community_3();
        self.directory.expect_may_post().returning(|_, _| Ok(false));
        self.directory
            .expect_may_listen()
            .returning(|_, _| Ok(false));
        self
    }

    pub(crate) fn build(self) -> Mocks {
        Mocks {
            store: Arc::new(self.store),
            markers: Arc::new(self.markers),
            bus: Arc::new(self.bus),
            presence: Arc::new(self.presence),
            state: Arc::new(self.state),
            directory: Arc::new(self.directory),
            users: Arc::new(self.users),
            tokens: Arc::new(self.tokens),
            clock: Arc::new(self.clock),
            ids: Arc::new(self.ids),
            limiter: Arc::new(self.limiter),
            files: Arc::new(self.files),
            broadcaster: Arc::new(self.broadcaster),
        }
    }
}

/// The profile the mocked user directory knows: alice is 1, bob is 2.
pub(crate) fn profile(id: UserId) -> UserProfile {
    let name = match id.get() {
        1 => "alice",
        2 => "bob",
        _ => "someone",
    };
    UserProfile {
        id,
        name: name.into(),
        image: None,
    }
}

/// A stored message of `author` in `room`.
pub(crate) fn stored(id: &str, author: UserId, room: RoomRef, text: &str) -> domain::Message {
    NewMessage {
        id: MessageId::parse(id).expect("id"),
        room,
        author: profile(author),
        body: MessageBody::parse(text).expect("body"),
        parent: None,
        attachment: None,
        client_msg_id: None,
        sent_at: Timestamp::from_unix_micros(1),
    }
    .stored_at(Seq::new(1))
}

/// A client's message key.
pub(crate) fn client_key(text: &str) -> ClientMsgId {
    ClientMsgId::parse(text).expect("key")
}

/// A message of `author` in `room` stored earlier under the client key `key`, at `seq`.
pub(crate) fn stored_with_key(
    author: UserId,
    room: RoomRef,
    key: &str,
    seq: u64,
) -> domain::Message {
    NewMessage {
        id: MessageId::parse("00000000000000000000beef").expect("id"),
        room,
        author: profile(author),
        body: MessageBody::parse("sent before").expect("body"),
        parent: None,
        attachment: None,
        client_msg_id: Some(client_key(key)),
        sent_at: Timestamp::from_unix_micros(1),
    }
    .stored_at(Seq::new(seq))
}

pub(crate) fn bus_down() -> crate::ports::outbound::BusError {
    crate::ports::outbound::BusError::Unavailable(anyhow::anyhow!("broker not available"))
}

pub(crate) fn store_down() -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("connection refused"))
}

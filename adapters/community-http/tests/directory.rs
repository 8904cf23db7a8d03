//! `HttpCommunityDirectory` against a fake community service on a real socket: how room lists and
//! member lists are read, cached and overwritten, and how retries, timeouts, outages and 4xx
//! answers turn into answers or `Unavailable`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use application::ports::outbound::{CommunityDirectory, DirectoryError};
use chat_adapter_community_http::{CommunityHttpSettings, HttpCommunityDirectory};
use domain::{Audience, ChannelId, CommunityId, RoomId, RoomRef, UserId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake community service knows and how it misbehaves.
#[derive(Debug, Default)]
struct State {
    /// User id to the raw JSON body of their room list.
    room_lists: HashMap<u64, String>,
    /// Room id to member ids.
    rooms: HashMap<u64, Vec<u64>>,
    /// Community id to member ids.
    communities: HashMap<u64, Vec<u64>>,
    /// Channel id to the id of its community.
    channels: HashMap<u64, u64>,
    /// The next this-many requests answer 500.
    failures_left: usize,
    /// Every request answers this status with an error envelope.
    outage: Option<u16>,
    /// Wait this long before answering.
    delay: Duration,
    /// Requests seen, per path.
    hits: HashMap<String, usize>,
}

impl State {
    fn respond(&mut self, path: &str) -> (u16, String) {
        *self.hits.entry(path.to_owned()).or_default() += 1;
        if self.failures_left > 0 {
            self.failures_left -= 1;
            return (500, r#"{"error":"boom"}"#.to_owned());
        }
        if let Some(status) = self.outage {
            return (
                status,
                r#"{"isSuccess":false,"code":4002,"message":"nope"}"#.to_owned(),
            );
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let members = match segments.as_slice() {
            ["community", "feign", "room-list", user] => {
                let user: u64 = user.parse().unwrap_or(0);
                let body = self.room_lists.get(&user).cloned().unwrap_or("[]".into());
                return (200, body);
            }
            ["room", "feign", room, "member-id"] => self.rooms.get(&room.parse().unwrap_or(0)),
            ["community", "feign", community, "member-id"] => {
                self.communities.get(&community.parse().unwrap_or(0))
            }
            ["channel", channel] => {
                return match self.channels.get(&channel.parse().unwrap_or(0)) {
                    Some(community) => (
                        200,
                        format!(
                            r#"{{"isSuccess":true,"code":1000,"message":"ok","result":{{"communityId":{community}}}}}"#
                        ),
                    ),
                    None => (404, r#"{"isSuccess":false,"code":4040}"#.to_owned()),
                };
            }
            _ => None,
        };
        match members {
            Some(members) => (
                200,
                format!(
                    r#"{{"isSuccess":true,"code":1000,"message":"요청에 성공하였습니다.","result":{{"members":{members:?}}}}}"#
                ),
            ),
            None => (404, r#"{"isSuccess":false,"code":4018}"#.to_owned()),
        }
    }
}

/// A tiny HTTP/1.1 server answering the community service's four GETs from shared state.
struct FakeCommunity {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeCommunity {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, Arc::clone(&shared)));
            }
        });
        Self { address, state }
    }

    fn base_url(&self) -> String {
        format!("http://{}/community-server/", self.address)
    }

    fn with<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        change(&mut self.state.lock().unwrap())
    }

    fn hits(&self, path: &str) -> usize {
        self.with(|state| state.hits.get(path).copied().unwrap_or(0))
    }
}

async fn answer(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut request = Vec::new();
    let mut chunk = [0_u8; 1024];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&chunk[..read]),
        }
    }
    let head = String::from_utf8_lossy(&request);
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let path = target.strip_prefix("/community-server").unwrap_or(target);
    let (delay, (status, body)) = {
        let mut state = state.lock().unwrap();
        (state.delay, state.respond(path))
    };
    tokio::time::sleep(delay).await;
    let response = format!(
        "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The client may have given up (timeout tests); that is fine.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Short timeouts and backoffs keep the failure tests fast.
fn settings(fake: &FakeCommunity) -> CommunityHttpSettings {
    CommunityHttpSettings {
        timeout_ms: 300,
        retries: 2,
        retry_backoff_ms: 10,
        ..CommunityHttpSettings::new(fake.base_url())
    }
}

fn directory(settings: &CommunityHttpSettings) -> HttpCommunityDirectory {
    HttpCommunityDirectory::new(settings).expect("valid settings")
}

const ALICE: UserId = UserId::new(1);
const BOB: UserId = UserId::new(2);
const MALLORY: UserId = UserId::new(9);
const DM: RoomRef = RoomRef::Direct(RoomId::new(5));
const CHANNEL: RoomRef = RoomRef::Channel {
    community: CommunityId::new(3),
    channel: ChannelId::new(12),
};
const ROOM_PATH: &str = "/room/feign/5/member-id";
const COMMUNITY_PATH: &str = "/community/feign/3/member-id";

async fn fake_with_members() -> FakeCommunity {
    let fake = FakeCommunity::start().await;
    fake.with(|state| {
        state.rooms.insert(5, vec![1, 2]);
        state.communities.insert(3, vec![1, 7]);
    });
    fake
}

#[tokio::test]
async fn the_room_list_is_parsed_bad_entries_are_skipped_and_it_is_cached_briefly() {
    let fake = FakeCommunity::start().await;
    fake.with(|state| {
        state.room_lists.insert(
            1,
            r#"["community/3","direct/5","channel/7","direct/x",42,"community/0"]"#.into(),
        );
    });
    let directory = directory(&settings(&fake));

    let expected = vec![
        Audience::Community(CommunityId::new(3)),
        Audience::Direct(RoomId::new(5)),
    ];
    assert_eq!(directory.rooms_of(ALICE).await.expect("rooms"), expected);
    assert_eq!(directory.rooms_of(ALICE).await.expect("rooms"), expected);
    assert_eq!(fake.hits("/community/feign/room-list/1"), 1);
    assert!(directory.rooms_of(BOB).await.expect("rooms").is_empty());
}

#[tokio::test]
async fn membership_decides_who_may_post_in_a_dm_room_and_in_a_channel() {
    let fake = fake_with_members().await;
    let directory = directory(&settings(&fake));

    assert!(directory.may_post(ALICE, DM).await.expect("answer"));
    assert!(directory.may_post(BOB, DM).await.expect("answer"));
    assert!(!directory.may_post(MALLORY, DM).await.expect("answer"));
    assert!(directory.may_post(ALICE, CHANNEL).await.expect("answer"));
    assert!(!directory.may_post(BOB, CHANNEL).await.expect("answer"));

    let room = Audience::Direct(RoomId::new(5));
    let community = Audience::Community(CommunityId::new(3));
    assert!(directory.may_listen(BOB, room).await.expect("answer"));
    assert!(!directory.may_listen(MALLORY, room).await.expect("answer"));
    assert!(
        directory
            .may_listen(ALICE, community)
            .await
            .expect("answer")
    );
    assert!(!directory.may_listen(BOB, community).await.expect("answer"));
}

const CHANNEL_PATH: &str = "/channel/12";

#[tokio::test]
async fn a_channel_is_heard_by_the_community_the_services_lookup_names_and_the_answer_is_cached() {
    let fake = fake_with_members().await;
    fake.with(|state| state.channels.insert(12, 3));
    let directory = directory(&settings(&fake));
    let channel = Audience::Group(ChannelId::new(12));

    assert!(
        !directory
            .may_listen(MALLORY, channel)
            .await
            .expect("answer")
    );
    assert!(directory.may_listen(ALICE, channel).await.expect("answer"));
    assert_eq!(
        directory
            .channel_community(ChannelId::new(12))
            .await
            .expect("answer"),
        Some(CommunityId::new(3))
    );
    assert_eq!(fake.hits(CHANNEL_PATH), 1);
}

#[tokio::test]
async fn a_post_teaches_nothing_and_a_channel_the_service_does_not_know_is_heard_by_nobody() {
    let fake = fake_with_members().await;
    let directory = directory(&settings(&fake));
    let channel = Audience::Group(ChannelId::new(12));

    assert!(!directory.may_post(MALLORY, CHANNEL).await.expect("answer"));
    assert!(directory.may_post(ALICE, CHANNEL).await.expect("answer"));

    assert!(
        !directory
            .may_listen(MALLORY, channel)
            .await
            .expect("answer")
    );
    assert!(!directory.may_listen(ALICE, channel).await.expect("answer"));
    assert_eq!(
        directory
            .channel_community(ChannelId::new(12))
            .await
            .expect("answer"),
        None
    );
    assert_eq!(fake.hits(CHANNEL_PATH), 1, "a 404 is cached briefly");
}

#[tokio::test]
async fn a_registered_channel_is_known_without_asking_and_a_binding_is_made_once() {
    let fake = fake_with_members().await;
    let directory = directory(&settings(&fake));
    let (twelve, thirteen) = (ChannelId::new(12), ChannelId::new(13));
    assert_eq!(
        directory.channel_community(twelve).await.expect("answer"),
        None
    );

    directory
        .set_channel(twelve, CommunityId::new(3))
        .await
        .expect("set");
    let first = directory
        .bind_channel(thirteen, CommunityId::new(3))
        .await
        .expect("bound");
    let second = directory
        .bind_channel(thirteen, CommunityId::new(4))
        .await
        .expect("bound");

    assert_eq!(
        directory.channel_community(twelve).await.expect("answer"),
        Some(CommunityId::new(3)),
        "a registration replaces a cached 404"
    );
    assert_eq!((first, second), (CommunityId::new(3), CommunityId::new(3)));
    assert!(
        directory
            .may_listen(ALICE, Audience::Group(thirteen))
            .await
            .expect("answer")
    );
    assert_eq!(fake.hits(CHANNEL_PATH), 1);
    assert_eq!(fake.hits("/channel/13"), 0);
}

#[tokio::test]
async fn with_the_service_down_a_channel_lookup_is_unavailable_not_unknown() {
    let fake = fake_with_members().await;
    fake.with(|state| state.outage = Some(503));
    let directory = directory(&settings(&fake));

    let answer = directory.channel_community(ChannelId::new(12)).await;
    let listen = directory
        .may_listen(ALICE, Audience::Group(ChannelId::new(12)))
        .await;

    assert!(
        matches!(answer, Err(DirectoryError::Unavailable(_))),
        "{answer:?}"
    );
    assert!(
        matches!(listen, Err(DirectoryError::Unavailable(_))),
        "{listen:?}"
    );
}

#[tokio::test]
async fn member_lists_are_cached_and_set_members_overwrites_the_cache() {
    let fake = fake_with_members().await;
    let directory = directory(&settings(&fake));

    assert!(directory.may_post(ALICE, DM).await.expect("answer"));
    assert!(directory.may_post(BOB, DM).await.expect("answer"));
    assert_eq!(
        fake.hits(ROOM_PATH),
        1,
        "the second call is answered from the cache"
    );

    directory
        .set_members(Audience::Direct(RoomId::new(5)), vec![BOB, MALLORY])
        .await
        .expect("set");
    assert!(!directory.may_post(ALICE, DM).await.expect("answer"));
    assert!(directory.may_post(MALLORY, DM).await.expect("answer"));
    assert_eq!(fake.hits(ROOM_PATH), 1);

    // A member list set before anything was asked is used without asking either.
    directory
        .set_members(Audience::Community(CommunityId::new(3)), vec![BOB])
        .await
        .expect("set");
    assert!(directory.may_post(BOB, CHANNEL).await.expect("answer"));
    assert_eq!(fake.hits(COMMUNITY_PATH), 0);
}

#[tokio::test]
async fn a_500_is_retried_and_then_succeeds() {
    let fake = fake_with_members().await;
    fake.with(|state| state.failures_left = 2);
    let directory = directory(&settings(&fake));

    assert!(directory.may_post(ALICE, DM).await.expect("answer"));
    assert_eq!(fake.hits(ROOM_PATH), 3);
}

#[tokio::test]
async fn a_500_that_outlasts_the_retries_is_unavailable() {
    let fake = fake_with_members().await;
    fake.with(|state| state.failures_left = 3);
    let directory = directory(&settings(&fake));

    let error = directory
        .may_post(ALICE, DM)
        .await
        .expect_err("unavailable");
    assert!(matches!(error, DirectoryError::Unavailable(_)));
    assert!(format!("{:#}", source(&error)).contains("500"));
    assert_eq!(fake.hits(ROOM_PATH), 3);
}

#[tokio::test]
async fn a_timeout_with_nothing_cached_is_unavailable_within_the_timeouts() {
    let fake = fake_with_members().await;
    fake.with(|state| state.delay = Duration::from_secs(5));
    let settings = CommunityHttpSettings {
        timeout_ms: 200,
        retries: 1,
        ..settings(&fake)
    };
    let directory = directory(&settings);

    let started = Instant::now();
    let error = directory
        .may_post(ALICE, DM)
        .await
        .expect_err("unavailable");
    let elapsed = started.elapsed();

    assert!(matches!(error, DirectoryError::Unavailable(_)));
    // Two attempts of 200 ms and a 10 ms backoff, with room for a slow machine.
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    assert_eq!(fake.hits(ROOM_PATH), 2, "a timeout is retried");
}

#[tokio::test]
async fn with_a_cached_value_an_outage_is_served_from_the_cache() {
    let fake = fake_with_members().await;
    fake.with(|state| {
        state.room_lists.insert(1, r#"["direct/5"]"#.into());
    });
    // Zero TTLs: every call asks the service, the cache only helps during outages.
    let settings = CommunityHttpSettings {
        member_cache_ttl_seconds: 0,
        room_list_cache_ttl_seconds: 0,
        ..settings(&fake)
    };
    let directory = directory(&settings);
    assert!(directory.may_post(ALICE, DM).await.expect("answer"));
    assert_eq!(directory.rooms_of(ALICE).await.expect("rooms").len(), 1);

    fake.with(|state| state.outage = Some(503));
    assert!(directory.may_post(ALICE, DM).await.expect("served stale"));
    assert!(!directory.may_post(MALLORY, DM).await.expect("served stale"));
    assert_eq!(
        directory.rooms_of(ALICE).await.expect("served stale"),
        vec![Audience::Direct(RoomId::new(5))]
    );
    assert_eq!(
        fake.hits(ROOM_PATH),
        1 + 2 * 3,
        "each stale answer tried the service first"
    );

    // A group never cached has nothing to fall back on.
    let error = directory
        .may_post(ALICE, CHANNEL)
        .await
        .expect_err("unavailable");
    assert!(matches!(error, DirectoryError::Unavailable(_)));
}

#[tokio::test]
async fn a_404_for_a_member_list_means_not_a_member() {
    let fake = FakeCommunity::start().await;
    let directory = directory(&settings(&fake));

    assert!(!directory.may_post(ALICE, DM).await.expect("answer"));
    assert!(!directory.may_post(ALICE, CHANNEL).await.expect("answer"));
    assert_eq!(fake.hits(ROOM_PATH), 1, "a 404 is not retried");
}

#[tokio::test]
async fn another_4xx_is_unavailable_with_the_status_in_the_cause_and_is_not_retried() {
    let fake = fake_with_members().await;
    fake.with(|state| state.outage = Some(400));
    let directory = directory(&settings(&fake));

    let error = directory
        .may_post(ALICE, DM)
        .await
        .expect_err("unavailable");
    let cause = format!("{:#}", source(&error));
    assert!(cause.contains("400"), "{cause}");
    assert!(cause.contains("4002"), "the body is quoted: {cause}");
    assert_eq!(fake.hits(ROOM_PATH), 1);
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_unavailable_not_a_panic() {
    let fake = FakeCommunity::start().await;
    fake.with(|state| {
        state
            .room_lists
            .insert(1, r#"{"result":["direct/5"]}"#.into());
    });
    let directory = directory(&settings(&fake));

    let error = directory.rooms_of(ALICE).await.expect_err("unavailable");
    assert!(matches!(error, DirectoryError::Unavailable(_)));
}

#[tokio::test]
async fn a_service_that_is_not_listening_is_unavailable() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("local address")
    };
    let settings = CommunityHttpSettings {
        retry_backoff_ms: 10,
        ..CommunityHttpSettings::new(format!("http://{address}"))
    };
    let directory = directory(&settings);

    let error = directory.rooms_of(ALICE).await.expect_err("unavailable");
    assert!(matches!(error, DirectoryError::Unavailable(_)));
}

fn source(error: &DirectoryError) -> &anyhow::Error {
    let DirectoryError::Unavailable(cause) = error;
    cause
}

#[tokio::test]
async fn without_the_channel_lookup_the_service_is_never_asked_and_only_bindings_place_channels() {
    let fake = fake_with_members().await;
    fake.with(|state| state.channels.insert(12, 3));
    let directory = directory(&settings(&fake)).without_channel_lookup();

    let before = directory
        .channel_community(ChannelId::new(12))
        .await
        .expect("answer");
    directory
        .bind_channel(ChannelId::new(12), CommunityId::new(3))
        .await
        .expect("bound");
    let after = directory
        .channel_community(ChannelId::new(12))
        .await
        .expect("answer");

    assert_eq!((before, after), (None, Some(CommunityId::new(3))));
    assert_eq!(fake.hits(CHANNEL_PATH), 0);
}

//! `TcpStateServer` against a fake state server on a real socket: what goes on the wire byte for
//! byte, how replies are read, and how the pool behaves when the server is slow, silent or
//! restarted.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support {
    //! Test helpers shared by this binary, kept out of the test list.
    pub(crate) mod fake_server;
}

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use application::ports::outbound::{GatewayError, SessionStateGateway};
use chat_adapter_state_tcp::{StateTcpSettings, TcpStateServer, WireFormat};
use domain::{
    ChannelId, CommunityId, Location, LocationChange, RoomId, Session, SessionId, Timestamp, UserId,
};

use support::fake_server::{FakeStateServer, Reply, always, by_type};

/// Short timeouts keep the failure tests fast; generous enough for a loaded CI machine.
fn settings(server: &FakeStateServer) -> StateTcpSettings {
    StateTcpSettings {
        connect_timeout_ms: 500,
        request_timeout_ms: 1_000,
        ..StateTcpSettings::new(server.address())
    }
}

fn gateway(settings: &StateTcpSettings) -> TcpStateServer {
    TcpStateServer::new(settings).expect("valid settings")
}

fn session(id: &str, user: u64) -> Session {
    Session {
        id: SessionId::parse(id).expect("session id"),
        user: UserId::new(user),
        opened_at: Timestamp::from_unix_micros(0),
    }
}

fn sid(id: &str) -> SessionId {
    SessionId::parse(id).expect("session id")
}

/// The whole cause chain, which is what an operator reads in the logs.
fn cause(error: GatewayError) -> String {
    match error {
        GatewayError::Unavailable(cause) => format!("{cause:#}"),
    }
}

const SEED_REPLIES: &[(&str, &str)] = &[
    ("login", "반환메세지"),
    ("logout", "1,r-5"),
    ("state", "home,r-5"),
    ("before-enter", r#"{"12":["4"]}"#),
    ("enter", r#"{"12":["4","1"]}"#),
];

// --- the seed's format, byte for byte -------------------------------------------------------

#[tokio::test]
async fn a_login_is_sent_in_the_seeds_format_byte_for_byte() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&settings(&server));

    gateway
        .login(&session("a1b2c3d4", 1))
        .await
        .expect("logged in");

    assert_eq!(
        server.received(),
        [
            "{type='login', session_id='a1b2c3d4', user_id='1', channel_id='null', community_id='null', ids=null}\r\n"
        ]
    );
}

#[tokio::test]
async fn a_logout_is_sent_in_the_seeds_format_byte_for_byte() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&settings(&server));

    gateway.logout(&sid("a1b2c3d4")).await.expect("logged out");

    assert_eq!(
        server.received(),
        [
            "{type='logout', session_id='a1b2c3d4', user_id='null', channel_id='null', community_id='null', ids=null}\r\n"
        ]
    );
}

#[tokio::test]
async fn a_location_change_is_sent_as_a_state_request_byte_for_byte() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&settings(&server));

    gateway
        .change_location(UserId::new(1), Location::Room(RoomId::new(5)))
        .await
        .expect("moved");

    assert_eq!(
        server.received(),
        [
            "{type='state', session_id='null', user_id='1', channel_id='r-5', community_id='null', ids=null}\r\n"
        ]
    );
}

#[tokio::test]
async fn a_before_enter_is_sent_in_the_seeds_format_byte_for_byte() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&settings(&server));

    gateway
        .before_enter(UserId::new(1), CommunityId::new(3))
        .await
        .expect("occupancy");

    assert_eq!(
        server.received(),
        [
            "{type='before-enter', session_id='null', user_id='1', channel_id='null', community_id='3', ids=null}\r\n"
        ]
    );
}

#[tokio::test]
async fn an_enter_is_sent_in_the_seeds_format_byte_for_byte() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&settings(&server));

    gateway
        .enter_voice(UserId::new(1), CommunityId::new(3), ChannelId::new(12))
        .await
        .expect("occupancy");

    assert_eq!(
        server.received(),
        [
            "{type='enter', session_id='null', user_id='1', channel_id='c-12', community_id='3', ids=null}\r\n"
        ]
    );
}

// --- the JSON-lines variant ------------------------------------------------------------------

#[tokio::test]
async fn in_the_json_format_every_request_is_one_json_object_per_line() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&StateTcpSettings {
        format: WireFormat::Json,
        ..settings(&server)
    });

    gateway.login(&session("s-1", 1)).await.expect("login");
    gateway
        .change_location(UserId::new(1), Location::Room(RoomId::new(5)))
        .await
        .expect("state");
    gateway
        .before_enter(UserId::new(1), CommunityId::new(3))
        .await
        .expect("before-enter");
    gateway
        .enter_voice(UserId::new(1), CommunityId::new(3), ChannelId::new(12))
        .await
        .expect("enter");
    gateway.logout(&sid("s-1")).await.expect("logout");

    assert_eq!(
        server.received(),
        [
            "{\"type\":\"login\",\"session_id\":\"s-1\",\"user_id\":\"1\",\"channel_id\":null,\"community_id\":null,\"ids\":null}\r\n",
            "{\"type\":\"state\",\"session_id\":null,\"user_id\":\"1\",\"channel_id\":\"r-5\",\"community_id\":null,\"ids\":null}\r\n",
            "{\"type\":\"before-enter\",\"session_id\":null,\"user_id\":\"1\",\"channel_id\":null,\"community_id\":\"3\",\"ids\":null}\r\n",
            "{\"type\":\"enter\",\"session_id\":null,\"user_id\":\"1\",\"channel_id\":\"c-12\",\"community_id\":\"3\",\"ids\":null}\r\n",
            "{\"type\":\"logout\",\"session_id\":\"s-1\",\"user_id\":null,\"channel_id\":null,\"community_id\":null,\"ids\":null}\r\n",
        ]
    );
}

// --- replies ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_login_reply_is_ignored_whatever_it_says() {
    let server = FakeStateServer::start(always("반환메세지")).await;
    gateway(&settings(&server))
        .login(&session("s", 1))
        .await
        .expect("any reply to a login will do");
}

#[tokio::test]
async fn a_logout_reply_naming_a_voice_location_with_its_comma_is_accepted() {
    let server = FakeStateServer::start(always("1,com3,c-12")).await;
    gateway(&settings(&server))
        .logout(&sid("s"))
        .await
        .expect("a voice location holds a comma");
}

#[tokio::test]
async fn a_logout_answered_null_null_for_an_unknown_session_is_accepted() {
    let server = FakeStateServer::start(always("null,null")).await;
    gateway(&settings(&server))
        .logout(&sid("s"))
        .await
        .expect("unknown sessions log out quietly");
}

#[tokio::test]
async fn a_state_reply_gives_where_the_user_was() {
    let server = FakeStateServer::start(always("home,r-5")).await;
    let change = gateway(&settings(&server))
        .change_location(UserId::new(1), Location::Room(RoomId::new(5)))
        .await
        .expect("moved");
    assert_eq!(
        change,
        LocationChange {
            previous: Some(Location::Home),
            current: Location::Room(RoomId::new(5)),
        }
    );
}

#[tokio::test]
async fn a_state_reply_of_null_r_5_means_the_previous_location_was_unknown() {
    let server = FakeStateServer::start(always("null,r-5")).await;
    let change = gateway(&settings(&server))
        .change_location(UserId::new(1), Location::Room(RoomId::new(5)))
        .await
        .expect("moved");
    assert_eq!(change.previous, None);
}

#[tokio::test]
async fn the_occupancy_json_becomes_the_communitys_voice_occupancy() {
    let server = FakeStateServer::start(always(r#"{"12":["1","4"],"13":[]}"#)).await;
    let gateway = gateway(&settings(&server));

    let entered = gateway
        .enter_voice(UserId::new(1), CommunityId::new(3), ChannelId::new(12))
        .await
        .expect("enter");
    let before = gateway
        .before_enter(UserId::new(1), CommunityId::new(3))
        .await
        .expect("before-enter");

    assert_eq!(entered.community, CommunityId::new(3));
    assert_eq!(
        entered.channels,
        BTreeMap::from([
            (ChannelId::new(12), vec![UserId::new(1), UserId::new(4)]),
            (ChannelId::new(13), vec![]),
        ])
    );
    assert_eq!(before, entered);
}

#[tokio::test]
async fn a_reply_arriving_in_pieces_is_put_back_together() {
    // The CRLF itself is split across two reads.
    let server = FakeStateServer::start(|_: &str| {
        Reply::Pieces(
            vec![b"com3,c-1".as_slice(), b"2,r-5\r", b"\n"],
            Duration::from_millis(20),
        )
    })
    .await;
    let change = gateway(&settings(&server))
        .change_location(UserId::new(1), Location::Room(RoomId::new(5)))
        .await
        .expect("moved");
    assert_eq!(change.previous, Some(Location::Channel(ChannelId::new(12))));
}

#[tokio::test]
async fn a_malformed_reply_is_an_error_not_a_panic() {
    let server = FakeStateServer::start(always("반환메세지")).await;
    let gateway = gateway(&settings(&server));

    let logout = gateway.logout(&sid("s")).await.expect_err("not `u,loc`");
    let state = gateway
        .change_location(UserId::new(1), Location::Home)
        .await
        .expect_err("not `old,new`");
    let occupancy = gateway
        .before_enter(UserId::new(1), CommunityId::new(3))
        .await
        .expect_err("not JSON");

    assert!(cause(logout).contains("malformed `logout` reply \"반환메세지\""));
    assert!(cause(state).contains("malformed `state` reply"));
    assert!(cause(occupancy).contains("malformed voice occupancy reply"));
}

#[tokio::test]
async fn a_reply_that_is_not_utf8_is_an_error() {
    let server = FakeStateServer::start(|_: &str| Reply::Raw(b"1,\xff\xfe\r\n".to_vec())).await;
    let error = gateway(&settings(&server))
        .logout(&sid("s"))
        .await
        .expect_err("not UTF-8");
    assert!(cause(error).contains("not UTF-8"));
}

#[tokio::test]
async fn a_reply_longer_than_the_limit_is_an_error_and_its_connection_is_dropped() {
    let server = FakeStateServer::start(|request: &str| {
        if request.contains("'logout'") {
            Reply::Raw(vec![b'x'; 4_096])
        } else {
            Reply::Line("반환메세지".to_owned())
        }
    })
    .await;
    let gateway = gateway(&StateTcpSettings {
        max_reply_bytes: 1_024,
        ..settings(&server)
    });

    let error = gateway.logout(&sid("s")).await.expect_err("too long");
    gateway
        .login(&session("s", 1))
        .await
        .expect("a fresh connection works");

    assert!(cause(error).contains("exceeds 1024 bytes"));
    assert_eq!(server.connections_accepted(), 2);
}

#[tokio::test]
async fn two_reply_lines_to_one_request_are_an_error() {
    let server =
        FakeStateServer::start(|_: &str| Reply::Raw(b"null,null\r\nnull,null\r\n".to_vec())).await;
    let error = gateway(&settings(&server))
        .logout(&sid("s"))
        .await
        .expect_err("out of step");
    assert!(cause(error).contains("more than one reply line"));
}

#[tokio::test]
async fn a_server_that_hangs_up_instead_of_answering_is_an_error() {
    let server = FakeStateServer::start(|_: &str| Reply::Close).await;
    let error = gateway(&settings(&server))
        .login(&session("s", 1))
        .await
        .expect_err("no answer");
    assert!(cause(error).contains("the connection was closed before an answer came"));
}

#[test]
fn every_failed_call_is_counted_as_degraded_and_no_other() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let server = FakeStateServer::start(always("반환메세지")).await;
            let gateway = gateway(&settings(&server));
            gateway.login(&session("s", 1)).await.expect("any reply");
            gateway.logout(&sid("s")).await.expect_err("not `u,loc`");
            gateway
                .change_location(UserId::new(1), Location::Home)
                .await
                .expect_err("not `old,new`");
        });
    });

    let rendered = handle.render();
    let line = r#"chat_dependency_degraded_total{dependency="state_server"} 2"#;
    assert!(rendered.lines().any(|l| l == line), "{rendered}");
}

// --- the pool --------------------------------------------------------------------------------

#[tokio::test]
async fn one_connection_carries_call_after_call() {
    let server = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let gateway = gateway(&settings(&server));

    for _ in 0..3 {
        gateway.login(&session("s", 1)).await.expect("login");
    }

    assert_eq!(server.received().len(), 3);
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn the_pool_reconnects_after_the_server_restarts() {
    let first = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let address = first.socket_address();
    let gateway = gateway(&settings(&first));
    gateway.login(&session("s", 1)).await.expect("first server");

    first.stop().await;
    let second = FakeStateServer::start_on(address, by_type(SEED_REPLIES)).await;

    gateway
        .login(&session("s", 1))
        .await
        .expect("the next call after a restart succeeds");
    assert_eq!(second.received().len(), 1);
}

#[tokio::test]
async fn calls_fail_while_the_server_is_down_and_succeed_once_it_is_back() {
    let first = FakeStateServer::start(by_type(SEED_REPLIES)).await;
    let address = first.socket_address();
    let gateway = gateway(&settings(&first));
    gateway.login(&session("s", 1)).await.expect("up");
    first.stop().await;

    let error = gateway
        .login(&session("s", 1))
        .await
        .expect_err("nobody listens");
    let back = FakeStateServer::start_on(address, by_type(SEED_REPLIES)).await;
    gateway.login(&session("s", 1)).await.expect("back up");

    assert!(
        cause(error).contains(&format!(
            "could not connect to the state server at {address}"
        )),
        "the cause names the address"
    );
    assert_eq!(back.received().len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_request_timeout() {
    let server = FakeStateServer::start(|_: &str| Reply::Never).await;
    let gateway = gateway(&StateTcpSettings {
        request_timeout_ms: 200,
        ..settings(&server)
    });

    let started = Instant::now();
    let error = gateway
        .login(&session("s", 1))
        .await
        .expect_err("no answer");
    let waited = started.elapsed();

    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    assert!(waited < Duration::from_secs(1), "{waited:?}");
    assert!(cause(error).contains(&format!(
        "state server at {} did not answer within 200 ms",
        server.address()
    )));
}

#[tokio::test]
async fn waiting_for_a_free_connection_counts_against_the_request_timeout() {
    let server = FakeStateServer::start(|_: &str| Reply::Never).await;
    let gateway = gateway(&StateTcpSettings {
        pool_size: 1,
        request_timeout_ms: 200,
        ..settings(&server)
    });

    let started = Instant::now();
    let (a, b) = (session("a", 1), session("b", 2));
    let (first, second) = tokio::join!(gateway.login(&a), gateway.login(&b));
    let waited = started.elapsed();

    assert!(first.is_err() && second.is_err());
    // Both give up at about the same deadline: the queued caller did not get a fresh 200 ms.
    assert!(waited < Duration::from_millis(390), "{waited:?}");
    assert_eq!(
        server.received().len(),
        1,
        "the queued request was never sent"
    );
}

#[tokio::test]
async fn a_connection_that_timed_out_is_not_reused_for_the_next_request() {
    // The late answer to the first request must not be read as the answer to the second.
    let server = FakeStateServer::start(|request: &str| {
        if request.contains("channel_id='r-1'") {
            Reply::After(Duration::from_millis(400), "home,r-1".to_owned())
        } else {
            Reply::Line("home,r-2".to_owned())
        }
    })
    .await;
    let gateway = gateway(&StateTcpSettings {
        pool_size: 1,
        request_timeout_ms: 150,
        ..settings(&server)
    });

    gateway
        .change_location(UserId::new(1), Location::Room(RoomId::new(1)))
        .await
        .expect_err("too slow");
    let change = gateway
        .change_location(UserId::new(1), Location::Room(RoomId::new(2)))
        .await
        .expect("a fresh connection answers");

    assert_eq!(change.current, Location::Room(RoomId::new(2)));
    assert_eq!(server.connections_accepted(), 2);
}

#[tokio::test]
async fn a_slow_server_with_one_connection_serves_concurrent_callers_one_after_another() {
    let pause = Duration::from_millis(80);
    let server =
        FakeStateServer::start(move |_: &str| Reply::After(pause, "반환메세지".to_owned())).await;
    let gateway = gateway(&StateTcpSettings {
        pool_size: 1,
        ..settings(&server)
    });

    let started = Instant::now();
    let sessions = [session("a", 1), session("b", 2), session("c", 3)];
    let (a, b, c) = tokio::join!(
        gateway.login(&sessions[0]),
        gateway.login(&sessions[1]),
        gateway.login(&sessions[2]),
    );
    let waited = started.elapsed();

    a.expect("a");
    b.expect("b");
    c.expect("c");
    assert_eq!(server.received().len(), 3);
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(server.most_requests_at_once(), 1);
    assert!(waited >= pause * 3, "served in turn: {waited:?}");
}

#[tokio::test]
async fn a_bigger_pool_serves_concurrent_callers_side_by_side() {
    let pause = Duration::from_millis(150);
    let server =
        FakeStateServer::start(move |_: &str| Reply::After(pause, "반환메세지".to_owned())).await;
    let gateway = gateway(&StateTcpSettings {
        pool_size: 3,
        ..settings(&server)
    });

    let sessions = [session("a", 1), session("b", 2), session("c", 3)];
    let (a, b, c) = tokio::join!(
        gateway.login(&sessions[0]),
        gateway.login(&sessions[1]),
        gateway.login(&sessions[2]),
    );

    a.expect("a");
    b.expect("b");
    c.expect("c");
    assert_eq!(server.connections_accepted(), 3);
    assert_eq!(server.most_requests_at_once(), 3);
}

#[tokio::test]
async fn an_unusable_address_is_refused_up_front() {
    assert!(TcpStateServer::new(&StateTcpSettings::new("no port here")).is_err());
}

//! Handler tests over the mocked driving ports: every status code the API answers.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use application::ports::inbound::{
    MockAccess, MockFileSharing, MockReading, MockRoster, TokenError, VerifiedToken,
};
use application::usecases::{
    GetMessageError, HistoryError, MarkReadError, RateLimited, SetMembersError,
};
use chat_adapter_rest::{ChatPorts, RestSettings};
use domain::{
    ChannelId, CommunityId, MessageBody, MessageId, NewMessage, RoomId, RoomKey, RoomRef, Seq,
    Timestamp, UserId, UserProfile,
};
use poem::http::StatusCode;
use poem::test::TestClient;
use poem::{Endpoint, IntoEndpoint as _};
use serde_json::json;

const SERVICE: &str = "service-secret";

fn settings() -> RestSettings {
    RestSettings {
        service_token: SERVICE.into(),
        max_body_bytes: 1024,
        max_file_bytes: 64,
        max_upload_bytes: 0,
        max_concurrent_uploads: 2,
        upload_room_first: true,
    }
}

/// Every driving port the REST API calls, mocked: a call nobody expected fails the test.
#[derive(Default)]
struct MockChat {
    access: MockAccess,
    reading: MockReading,
    file_sharing: MockFileSharing,
    roster: MockRoster,
}

/// A chat whose good token belongs to user 1, within their allowance (and every room
/// within its own).
fn chat() -> MockChat {
    let mut chat = chat_without_allowance();
    chat.access.expect_admit().returning(|_, _| Ok(()));
    chat.access.expect_admit_room().returning(|_, _| Ok(()));
    chat
}

/// A chat whose good token belongs to user 1; the allowance is for the test to set.
fn chat_without_allowance() -> MockChat {
    let mut chat = MockChat::default();
    chat.access.expect_authenticate().returning(|token| {
        if token == "good" {
            Ok(VerifiedToken {
                user: UserId::new(1),
                subject: "a@b".into(),
                name: None,
                image: None,
                expires_at: domain::Timestamp::from_unix_micros(i64::MAX),
            })
        } else {
            Err(TokenError::Expired)
        }
    });
    chat
}

fn client(chat: MockChat) -> TestClient<impl Endpoint> {
    let ports = ChatPorts {
        access: Arc::new(chat.access),
        reading: Arc::new(chat.reading),
        file_sharing: Arc::new(chat.file_sharing),
        roster: Arc::new(chat.roster),
    };
    TestClient::new(chat_adapter_rest::routes(&ports, &settings()).into_endpoint())
}

/// The response has `status` and the error shape with `code`.
async fn assert_error(response: poem::test::TestResponse, status: StatusCode, code: &str) {
    response.assert_status(status);
    response
        .json()
        .await
        .value()
        .object()
        .get("code")
        .assert_string(code);
}

fn message() -> domain::Message {
    NewMessage {
        id: MessageId::parse("m1").expect("id"),
        room: RoomRef::Direct(RoomId::new(5)),
        author: UserProfile::anonymous(UserId::new(1)),
        body: MessageBody::parse("hi").expect("body"),
        parent: None,
        attachment: None,
        client_msg_id: None,
        sent_at: Timestamp::from_unix_micros(0),
    }
    .stored_at(Seq::new(1))
}

#[tokio::test]
async fn history_answers_200_with_the_page() {
    let mut chat = chat();
    chat.reading
        .expect_history()
        .returning(|_| Ok(vec![message()]));

    let response = client(chat)
        .get("/api/v1/direct/5/messages")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    response.assert_status_is_ok();
    let body = response.json().await;
    body.value()
        .object()
        .get("messages")
        .array()
        .get(0)
        .object()
        .get("id")
        .assert_string("m1");
}

#[tokio::test]
async fn a_limit_out_of_range_is_400_in_the_error_shape() {
    let response = client(chat())
        .get("/api/v1/direct/5/messages?limit=0")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
}

#[tokio::test]
async fn before_and_after_together_are_400() {
    let response = client(chat())
        .get("/api/v1/direct/5/messages?before=a&after=b")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_cursor").await;
}

#[tokio::test]
async fn a_missing_token_is_401_and_an_expired_one_too() {
    let missing = client(chat()).get("/api/v1/rooms").send().await;
    assert_error(missing, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let expired = client(chat())
        .get("/api/v1/rooms")
        .header("Authorization", "Bearer old")
        .send()
        .await;
    expired.assert_status(StatusCode::UNAUTHORIZED);
    expired
        .json()
        .await
        .value()
        .object()
        .get("message")
        .assert_string("access token expired");
}

#[tokio::test]
async fn a_non_member_is_403() {
    let mut chat = chat();
    chat.reading
        .expect_history()
        .returning(|_| Err(HistoryError::Forbidden(RoomKey::Direct(RoomId::new(5)))));

    let response = client(chat)
        .get("/api/v1/direct/5/messages")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    assert_error(response, StatusCode::FORBIDDEN, "not_a_member").await;
}

#[tokio::test]
async fn an_unknown_message_is_404() {
    let mut chat = chat();
    chat.reading
        .expect_message()
        .returning(|_, id| Err(GetMessageError::NotFound(id)));

    let response = client(chat)
        .get("/api/v1/messages/nope")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    assert_error(response, StatusCode::NOT_FOUND, "message_not_found").await;
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let big = "x".repeat(2048);
    let response = client(chat())
        .put("/api/v1/direct/5/read")
        .header("Authorization", "Bearer good")
        .body_json(&json!({"messageId": big}))
        .send()
        .await;

    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let response = client(chat())
        .put("/api/v1/direct/5/read")
        .header("Authorization", "Bearer good")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await;

    response.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_voice_leave_with_a_bad_location_is_422() {
    let response = client(chat())
        .post("/chat-server/signaling-list-direct")
        .header("X-Service-Token", SERVICE)
        .body_json(&json!({"type": "out", "channelId": "somewhere", "ids": ["4"]}))
        .send()
        .await;

    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_location",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_service_token_is_401() {
    let response = client(chat())
        .put("/chat-server/room-user-list/5")
        .header("X-Service-Token", "guess")
        .body_json(&json!([1, 2]))
        .send()
        .await;

    response.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_dependency_outage_is_503() {
    let mut chat = chat();
    chat.reading
        .expect_mark_read()
        .returning(|_, _, _| Err(MarkReadError::Unavailable(anyhow::anyhow!("store down"))));

    let response = client(chat)
        .put("/api/v1/direct/5/read")
        .header("Authorization", "Bearer good")
        .body_json(&json!({}))
        .send()
        .await;

    assert_error(response, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
}

#[tokio::test]
async fn the_seed_member_list_answers_its_envelope() {
    let mut chat = chat();
    chat.roster
        .expect_set_members()
        .withf(|group, members| {
            *group == domain::Audience::Direct(RoomId::new(5)) && members.len() == 2
        })
        .times(1)
        .returning(|_, _| Ok(()));

    let response = client(chat)
        .put("/chat-server/room-user-list/5")
        .header("X-Service-Token", SERVICE)
        .body_json(&json!([1, 2]))
        .send()
        .await;

    response.assert_status_is_ok();
    let body = response.json().await;
    body.value().object().get("isSuccess").assert_bool(true);
    body.value().object().get("code").assert_i64(1000);
}

#[tokio::test]
async fn too_many_members_is_413() {
    let mut chat = chat();
    chat.roster
        .expect_set_members()
        .returning(|_, _| Err(SetMembersError::TooManyMembers { got: 9, max: 1 }));

    let response = client(chat)
        .put("/chat-server/room-user-list/5")
        .header("X-Service-Token", SERVICE)
        .body_json(&json!([1]))
        .send()
        .await;

    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_user_over_the_read_allowance_gets_429_with_retry_after() {
    let mut chat = chat_without_allowance();
    chat.access.expect_admit().returning(|_, _| {
        Err(RateLimited {
            retry_after: std::time::Duration::from_millis(1500),
        })
    });

    let response = client(chat)
        .get("/api/v1/rooms")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    response.assert_header("Retry-After", "2");
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn the_history_of_an_unknown_channel_is_404_unknown_channel() {
    let mut chat = chat();
    chat.reading
        .expect_history()
        .returning(|_| Err(HistoryError::UnknownChannel(ChannelId::new(12))));

    let response = client(chat)
        .get("/api/v1/channels/12/messages")
        .header("Authorization", "Bearer good")
        .send()
        .await;

    assert_error(response, StatusCode::NOT_FOUND, "unknown_channel").await;
}

#[tokio::test]
async fn the_community_service_registers_a_channel_with_the_service_token() {
    let mut chat = chat();
    chat.roster
        .expect_set_channel()
        .withf(|channel, community| {
            *channel == ChannelId::new(12) && *community == CommunityId::new(3)
        })
        .times(1)
        .returning(|_, _| Ok(()));

    let response = client(chat)
        .put("/chat-server/channel/12")
        .header("X-Service-Token", SERVICE)
        .body_json(&json!({"communityId": 3}))
        .send()
        .await;

    response.assert_status_is_ok();
    response
        .json()
        .await
        .value()
        .object()
        .get("code")
        .assert_i64(1000);
}

#[tokio::test]
async fn registering_a_channel_needs_the_service_token() {
    let mut chat = chat();
    chat.roster.expect_set_channel().never();

    let response = client(chat)
        .put("/chat-server/channel/12")
        .header("X-Service-Token", "wrong")
        .body_json(&json!({"communityId": 3}))
        .send()
        .await;

    assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

/// A multipart form with one file part `field`.
fn file_form(field: &str) -> (String, Vec<u8>) {
    let boundary = "----handler-test";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\npng\r\n--{boundary}--\r\n"
    );
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn an_upload_by_a_non_member_is_refused_before_it_is_posted() {
    let mut chat = chat();
    chat.file_sharing
        .expect_authorize_file()
        .returning(|_, room| Err(application::usecases::PostFileError::Forbidden(room)));
    chat.file_sharing.expect_post_file().never();
    let (content_type, body) = file_form("file");

    let response = client(chat)
        .post("/api/v1/direct/5/files")
        .header("Authorization", "Bearer good")
        .content_type(content_type)
        .body(body)
        .send()
        .await;

    assert_error(response, StatusCode::FORBIDDEN, "not_a_member").await;
}

#[tokio::test]
async fn an_upload_spends_the_write_allowance() {
    use application::ports::inbound::RequestKind;

    let mut chat = chat_without_allowance();
    chat.access
        .expect_admit()
        .withf(|_, kind| *kind == RequestKind::Write)
        .times(1)
        .returning(|_, _| {
            Err(RateLimited {
                retry_after: std::time::Duration::from_secs(2),
            })
        });
    chat.file_sharing.expect_post_file().never();
    let (content_type, body) = file_form("file");

    let response = client(chat)
        .post("/api/v1/direct/5/files")
        .header("Authorization", "Bearer good")
        .content_type(content_type)
        .body(body)
        .send()
        .await;

    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn an_upload_to_a_room_over_its_allowance_is_429_with_retry_after_and_never_posted() {
    let mut chat = chat_without_allowance();
    chat.access.expect_admit().returning(|_, _| Ok(()));
    chat.access
        .expect_admit_room()
        .withf(|_, room| *room == RoomRef::Direct(RoomId::new(5)))
        .times(1)
        .returning(|_, _| {
            Err(RateLimited {
                retry_after: std::time::Duration::from_millis(2500),
            })
        });
    chat.file_sharing
        .expect_authorize_file()
        .returning(|_, _| Ok(()));
    chat.file_sharing.expect_post_file().never();
    let (content_type, body) = file_form("file");

    let response = client(chat)
        .post("/api/v1/direct/5/files")
        .header("Authorization", "Bearer good")
        .content_type(content_type)
        .body(body)
        .send()
        .await;

    response.assert_header("Retry-After", "3");
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn a_seed_upload_spends_the_allowance_of_the_room_its_form_names() {
    let mut chat = chat_without_allowance();
    chat.access.expect_admit().returning(|_, _| Ok(()));
    chat.access
        .expect_admit_room()
        .withf(|_, room| *room == RoomRef::Direct(RoomId::new(7)))
        .times(1)
        .returning(|_, _| {
            Err(RateLimited {
                retry_after: std::time::Duration::from_secs(1),
            })
        });
    chat.file_sharing
        .expect_authorize_file()
        .returning(|_, _| Ok(()));
    chat.file_sharing.expect_post_file().never();
    let boundary = "----handler-test";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"channelId\"\r\n\r\n7\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"fileType\"\r\n\r\nimage\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\npng\r\n--{boundary}--\r\n"
    );

    let response = client(chat)
        .post("/chat-server/file")
        .header("Authorization", "Bearer good")
        .content_type(format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await;

    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn a_seed_form_with_its_room_after_the_file_is_400_before_anything_is_posted() {
    let mut chat = chat();
    chat.file_sharing.expect_authorize_file().never();
    chat.file_sharing.expect_post_file().never();
    let boundary = "----handler-test";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\npng\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"channelId\"\r\n\r\n5\r\n\
         --{boundary}--\r\n"
    );

    let response = client(chat)
        .post("/chat-server/file")
        .header("Authorization", "Bearer good")
        .content_type(format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "room_after_file").await;
}

//! File and image messages: uploads through the seed's and the clean endpoints, stored
//! on local disk or in S3 (the shared moto server), downloaded through the returned URL,
//! refused over the limits or for non-members, failing cleanly when storage is down,
//! and delivered over STOMP to subscribers of every instance.

use std::collections::HashMap;
use std::time::Duration;

use chat_tests::{
    CommunityData, FakeCommunityService, StompClient, TestCluster, TestServer, services, token,
    unique_id,
};
use reqwest::StatusCode;
use serde_json::Value;

/// One part of a multipart form: a text field, or a file with its name and media type.
pub(crate) enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a str, &'a [u8]),
}

/// A multipart form's body (built by hand: the tests' reqwest has no multipart feature);
/// `close` ends it with the closing boundary.
pub(crate) fn form_body(boundary: &str, parts: &[Part<'_>], close: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(name, file_name, media_type, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {media_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    if close {
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
    body
}

/// Posts a multipart form.
pub(crate) async fn upload(
    base: &str,
    path: &str,
    token: &str,
    parts: &[Part<'_>],
) -> (StatusCode, Value) {
    let boundary = format!("----chat{}", unique_id());
    let body = form_body(&boundary, parts, true);
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("upload request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Downloads `url` (a server path is resolved against `base`): status, headers, bytes.
pub(crate) async fn download(
    base: &str,
    url: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    download_as(base, url, None).await
}

/// Downloads `url` with `token` as `Authorization: Bearer`, if any.
pub(crate) async fn download_as(
    base: &str,
    url: &str,
    token: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let url = if url.starts_with('/') {
        format!("{base}{url}")
    } else {
        url.to_owned()
    };
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("download");
    let status = response.status();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.bytes().await.expect("bytes").to_vec(),
    )
}

/// `url` without its query (a download link's signature).
pub(crate) fn without_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Sends an upload by hand with `Transfer-Encoding: chunked` (no `Content-Length`):
/// `head` as the first chunk, then `rest` and the end of the body, or, when `rest`
/// is `None`, nothing more: the body stays open, as a slow or never-ending upload.
/// Returns the answer's status and body, or `None` when none came within 20 s.
pub(crate) async fn raw_upload(
    server: &TestServer,
    path: &str,
    token: &str,
    boundary: &str,
    head: &[u8],
    rest: Option<&[u8]>,
) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let address = server.http_url().trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let mut bytes = request.into_bytes();
    for chunk in std::iter::once(head).chain(rest) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    if rest.is_some() {
        bytes.extend_from_slice(b"0\r\n\r\n");
    }
    // The server may answer and close before it read everything: a failed write is
    // not the test's concern, the answer is.
    let _ = socket.write_all(&bytes).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buffer = [0_u8; 4096];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
            let text = String::from_utf8_lossy(&answer);
            if let Some((headers, body)) = text.split_once("\r\n\r\n") {
                let length = headers
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
    })
    .await;
    if read.is_err() && answer.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

pub(crate) async fn history(server: &TestServer, room: u64, user: u64) -> Vec<Value> {
    let (status, page) = server
        .rest()
        .get(
            &format!("/api/v1/direct/{room}/messages"),
            &token(user, "alice"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["messages"].as_array().expect("messages").clone()
}

pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really an image";

pub(crate) fn local_server(max_bytes: &str) -> TestServer {
    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    TestServer::start_with(&[
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
        ("CHAT_FILES__MAX_BYTES", max_bytes),
    ])
}

pub(crate) fn s3_env(endpoint: &str, bucket: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CHAT_FILES__BACKEND", "s3".to_owned()),
        ("CHAT_FILES__TIMEOUT_MS", "3000".to_owned()),
        ("CHAT_FILES__S3__ENDPOINT", endpoint.to_owned()),
        ("CHAT_FILES__S3__BUCKET", bucket.to_owned()),
        ("CHAT_FILES__S3__ACCESS_KEY_ID", "test".to_owned()),
        ("CHAT_FILES__S3__SECRET_ACCESS_KEY", "test".to_owned()),
    ]
}

pub(crate) fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn an_image_posted_through_the_seed_endpoint_is_stored_served_delivered_and_in_history() {
    let server = local_server("1048576");
    let room = unique_id();
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("dm", &format!("/topic/direct/{room}")).await;

    let (status, body) = upload(
        &server.http_url(),
        "/chat-server/file",
        &token(1, "alice"),
        &[
            Part::Text("type", "direct"),
            Part::Text("fileType", "image"),
            Part::Text("channelId", &room.to_string()),
            Part::Text("userId", "999"),
            Part::File("image", "../../etc/passwd.png", "image/png", PNG),
            Part::File("thumbnail", "thumb.png", "image/png", b"\x89PNG thumb"),
        ],
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isSuccess"], true);
    let event = bob
        .wait_for_event_on(&format!("/topic/direct/{room}"), Duration::from_secs(10))
        .await
        .expect("the file event");
    assert_eq!(event["type"], "direct");
    assert_eq!(event["fileType"], "image");
    assert_eq!(event["userId"], "1", "the author is the token's user");
    assert_eq!(event["channelId"], room);
    let url = event["message"].as_str().expect("file URL");
    let path = without_query(url);
    assert!(
        path.starts_with("/files/") && path.rsplit('.').next() == Some("png"),
        "{url}"
    );
    assert!(
        !url.contains("passwd"),
        "the client's file name is never the key: {url}"
    );
    let key = path.trim_start_matches("/files/").trim_end_matches(".png");
    assert!(
        key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "the key is 128 random bits, not the guessable message id: {url}"
    );
    let (status, headers, bytes) = download(&server.http_url(), url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let thumbnail = event["thumbnail"].as_str().expect("thumbnail URL");
    assert_eq!(
        download(&server.http_url(), thumbnail).await.2,
        b"\x89PNG thumb"
    );

    let messages = history(&server, room, 2).await;
    assert_eq!(messages.len(), 1);
    let content = messages[0]["content"].as_str().expect("content");
    assert_eq!(without_query(content), path);
    assert_eq!(messages[0]["file"]["fileType"], "image");
    let history_thumbnail = messages[0]["file"]["thumbnail"]
        .as_str()
        .expect("thumbnail");
    assert_eq!(without_query(history_thumbnail), without_query(thumbnail));
    assert_eq!(download(&server.http_url(), content).await.2, PNG);
}

#[tokio::test]
async fn a_document_posted_through_the_clean_endpoint_is_downloaded_as_an_attachment() {
    let server = local_server("1048576");
    let room = unique_id();

    let (status, message) = upload(
        &server.http_url(),
        &format!("/api/v1/direct/{room}/files"),
        &token(1, "alice"),
        &[Part::File(
            "file",
            "report.pdf",
            "application/pdf",
            b"%PDF-1.4",
        )],
    )
    .await;

    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert_eq!(message["file"]["fileType"], "file");
    let url = message["content"].as_str().expect("url");
    let (status, headers, bytes) = download(&server.http_url(), url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"%PDF-1.4");
    assert!(
        headers["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment"),
        "{headers:?}"
    );
    let (status, _, _) = download(&server.http_url(), "/files/..%2Fsecret").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn uploads_over_the_size_limit_or_of_a_refused_type_create_no_message() {
    let server = local_server("1000");
    let room = unique_id();
    let path = format!("/api/v1/direct/{room}/files");
    let alice = token(1, "alice");

    let big = vec![0_u8; 1001];
    let (too_large, body) = upload(
        &server.http_url(),
        &path,
        &alice,
        &[Part::File("file", "big.png", "image/png", &big)],
    )
    .await;
    let (refused_type, refused) = upload(
        &server.http_url(),
        &path,
        &alice,
        &[Part::File(
            "file",
            "run.sh",
            "application/x-sh",
            b"#!/bin/sh",
        )],
    )
    .await;
    let exactly = vec![0_u8; 1000];
    let (at_limit, _) = upload(
        &server.http_url(),
        &path,
        &alice,
        &[Part::File("file", "ok.png", "image/png", &exactly)],
    )
    .await;

    assert_eq!(too_large, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        refused_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{refused}"
    );
    assert_eq!(refused["code"], "unsupported_file_type");
    assert_eq!(at_limit, StatusCode::CREATED);
    assert_eq!(history(&server, room, 1).await.len(), 1);
}

#[tokio::test]
async fn a_non_member_cannot_post_a_file() {
    let (room, community, channel) = (unique_id(), unique_id(), unique_id());
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::new(),
        room_members: HashMap::from([(room, vec![1, 2])]),
        community_members: HashMap::from([(community, vec![1, 2])]),
        channel_communities: HashMap::from([(channel, community)]),
    })
    .await;
    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    let server = TestServer::start_with(&[
        ("CHAT_COMMUNITY__BASE_URL", &service.base_url()),
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
    ]);
    let mallory = token(3, "mallory");

    let (dm, dm_body) = upload(
        &server.http_url(),
        "/chat-server/file",
        &mallory,
        &[
            Part::Text("fileType", "image"),
            Part::Text("channelId", &room.to_string()),
            Part::File("image", "a.png", "image/png", PNG),
        ],
    )
    .await;
    let (group, _) = upload(
        &server.http_url(),
        "/chat-server/channel/file",
        &mallory,
        &[
            Part::Text("type", "community"),
            Part::Text("fileType", "image"),
            Part::Text("communityId", &community.to_string()),
            Part::Text("channelId", &channel.to_string()),
            Part::File("image", "a.png", "image/png", PNG),
        ],
    )
    .await;

    assert_eq!(dm, StatusCode::FORBIDDEN, "{dm_body}");
    assert_eq!(group, StatusCode::FORBIDDEN);
    let stored = std::fs::read_dir(&directory).expect("directory").count();
    assert_eq!(stored, 0, "nothing was stored for a non-member");
}

#[tokio::test]
async fn an_upload_to_s3_is_private_and_downloadable_through_its_pre_signed_url() {
    let bucket = services::fresh_bucket().await;
    let env = s3_env(&services::s3_endpoint(), &bucket);
    let server = TestServer::start_with(&borrowed(&env));
    let (community, channel) = (unique_id(), unique_id());

    let (status, message) = upload(
        &server.http_url(),
        &format!("/api/v1/communities/{community}/channels/{channel}/files"),
        &token(1, "alice"),
        &[
            Part::Text("fileType", "image"),
            Part::File("file", "photo.PNG", "image/png", PNG),
            Part::File("thumbnail", "t.png", "image/png", b"thumb"),
        ],
    )
    .await;

    assert_eq!(status, StatusCode::CREATED, "{message}");
    let url = message["content"].as_str().expect("url");
    assert!(
        url.starts_with(&format!("{}/{bucket}/", services::s3_endpoint())),
        "{url}"
    );
    let (status, headers, bytes) = download(&server.http_url(), url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(headers["content-type"], "image/png");
    let (anonymous, _, _) = download(&server.http_url(), without_query(url)).await;
    assert_eq!(
        anonymous,
        StatusCode::FORBIDDEN,
        "the object itself is private"
    );
}

#[tokio::test]
async fn when_storage_is_down_the_upload_fails_with_503_and_no_message_is_created() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let endpoint = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let env = s3_env(&endpoint, "absent");
    let server = TestServer::start_with(&borrowed(&env));
    let room = unique_id();

    let (status, body) = upload(
        &server.http_url(),
        "/chat-server/file",
        &token(1, "alice"),
        &[
            Part::Text("fileType", "image"),
            Part::Text("channelId", &room.to_string()),
            Part::File("image", "a.png", "image/png", PNG),
        ],
    )
    .await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "unavailable");
    assert!(history(&server, room, 1).await.is_empty());
    let (_, _, readiness) = server.rest().get_text("/readyz").await;
    let readiness: Value = serde_json::from_str(&readiness).expect("JSON");
    let file_store = readiness["dependencies"]["file_store"]
        .as_str()
        .unwrap_or_default();
    assert!(file_store.starts_with("unreachable"), "{readiness}");
}

#[tokio::test]
async fn a_file_posted_on_one_instance_reaches_a_subscriber_on_another() {
    let (room, community) = (unique_id(), unique_id());
    let rooms = vec![format!("direct/{room}"), format!("community/{community}")];
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::from([(1, rooms.clone()), (2, rooms)]),
        room_members: HashMap::from([(room, vec![1, 2])]),
        community_members: HashMap::from([(community, vec![1, 2])]),
        channel_communities: HashMap::new(),
    })
    .await;
    let bucket = services::fresh_bucket().await;
    let env = s3_env(&services::s3_endpoint(), &bucket);
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &chat_tests::ClusterServices::shared(),
        &borrowed(&env),
    )
    .await;
    let topic = format!("/topic/direct/{room}");
    let mut bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    bob.subscribe("dm", &topic).await;

    let (status, body) = upload(
        &cluster.node(0).http_url(),
        "/chat-server/file",
        &token(1, "alice"),
        &[
            Part::Text("type", "direct"),
            Part::Text("fileType", "video"),
            Part::Text("channelId", &room.to_string()),
            Part::File("image", "clip.mp4", "video/mp4", b"not really a video"),
        ],
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let event = loop {
        let event = bob
            .wait_for_event_on(&topic, Duration::from_secs(20))
            .await
            .expect("the file event from the other instance");
        if event.get("fileType").is_some() {
            break event;
        }
    };
    assert_eq!(event["type"], "direct");
    assert_eq!(event["fileType"], "video");
    let url = event["message"].as_str().expect("url");
    let (status, _, bytes) = download(&cluster.node(1).http_url(), url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"not really a video");
    let (status, page) = cluster
        .node(1)
        .rest()
        .get(&format!("/api/v1/direct/{room}/messages"), &token(2, "bob"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let content = page["messages"][0]["content"].as_str().expect("content");
    assert_eq!(without_query(content), without_query(url));
    assert_eq!(page["messages"][0]["file"]["fileType"], "video");
}

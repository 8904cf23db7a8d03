//! Who may get a shared file, and what an upload may cost: downloads only with a member's
//! token or an expiring link, sandboxed attachments for active types, and the upload limits
//! (membership before the file is read, the total size while streaming, the write allowance,
//! uploads in progress per user).

use std::collections::HashMap;
use std::time::Duration;

use chat_tests::{CommunityData, FakeCommunityService, TestServer, services, token, unique_id};
use reqwest::StatusCode;
use serde_json::Value;

use crate::files::{
    PNG, Part, download, download_as, form_body, history, local_server, raw_upload, upload,
    without_query,
};

/// A local-disk server whose DM room `room` has members alice (1) and bob (2).
async fn members_only_server(room: u64) -> (FakeCommunityService, TestServer, std::path::PathBuf) {
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::new(),
        room_members: HashMap::from([(room, vec![1, 2])]),
        community_members: HashMap::new(),
        channel_communities: HashMap::new(),
    })
    .await;
    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    let server = TestServer::start_with(&[
        ("CHAT_COMMUNITY__BASE_URL", &service.base_url()),
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
    ]);
    (service, server, directory)
}

/// Alice shares `bytes` in DM room `room` through the clean endpoint; the message.
async fn share(
    server: &TestServer,
    room: u64,
    name: &str,
    media_type: &str,
    bytes: &[u8],
) -> Value {
    let (status, message) = upload(
        &server.http_url(),
        &format!("/api/v1/direct/{room}/files"),
        &token(1, "alice"),
        &[Part::File("file", name, media_type, bytes)],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    message
}

#[tokio::test]
async fn a_download_needs_a_token_or_a_link_and_only_members_of_the_room_get_the_file() {
    let room = unique_id();
    let (_service, server, _) = members_only_server(room).await;
    let message = share(&server, room, "photo.png", "image/png", PNG).await;
    let path = without_query(message["content"].as_str().expect("url")).to_owned();

    let (anonymous, anonymous_headers, anonymous_body) =
        download_as(&server.http_url(), &path, None).await;
    let (forged, _, _) = download_as(&server.http_url(), &path, Some("not-a-token")).await;
    let (outsider, _, outsider_body) =
        download_as(&server.http_url(), &path, Some(&token(3, "mallory"))).await;
    let (member, _, member_body) =
        download_as(&server.http_url(), &path, Some(&token(2, "bob"))).await;

    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous_headers["www-authenticate"], "Bearer");
    let anonymous_body: Value = serde_json::from_slice(&anonymous_body).expect("JSON");
    assert_eq!(anonymous_body["code"], "unauthorized");
    assert_eq!(forged, StatusCode::UNAUTHORIZED);
    assert_eq!(
        outsider,
        StatusCode::NOT_FOUND,
        "a non-member learns nothing"
    );
    assert!(!outsider_body.starts_with(PNG));
    assert_eq!(member, StatusCode::OK);
    assert_eq!(member_body, PNG);
}

#[tokio::test]
async fn a_download_link_works_until_it_expires_and_a_tampered_one_is_refused() {
    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    let server = TestServer::start_with(&[
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
        ("CHAT_FILES__LINK_TTL_SECONDS", "3"),
    ]);
    let room = unique_id();
    let message = share(&server, room, "photo.png", "image/png", PNG).await;
    let link = message["content"].as_str().expect("url").to_owned();
    let (path, query) = link.split_once('?').expect("a signed link");
    let exp: u64 = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("exp="))
        .and_then(|exp| exp.parse().ok())
        .expect("exp");
    let sig = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("sig="))
        .expect("sig");
    let flipped = if sig.ends_with('0') { "1" } else { "0" };
    let tampered_sig = format!("{path}?exp={exp}&sig={}{flipped}", &sig[..sig.len() - 1]);
    let later_exp = format!("{path}?exp={}&sig={sig}", exp + 3600);

    let (fresh, _, bytes) = download(&server.http_url(), &link).await;
    let (tampered, _, tampered_body) = download(&server.http_url(), &tampered_sig).await;
    let (extended, _, _) = download(&server.http_url(), &later_exp).await;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    };
    while now() <= exp {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (expired, _, expired_body) = download(&server.http_url(), &link).await;

    assert_eq!(fresh, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(tampered, StatusCode::FORBIDDEN);
    let tampered_body: Value = serde_json::from_slice(&tampered_body).expect("JSON");
    assert_eq!(tampered_body["code"], "invalid_link");
    assert_eq!(extended, StatusCode::FORBIDDEN, "the expiry is signed too");
    assert_eq!(expired, StatusCode::FORBIDDEN);
    let expired_body: Value = serde_json::from_slice(&expired_body).expect("JSON");
    assert_eq!(expired_body["code"], "link_expired");
}

#[tokio::test]
async fn an_svg_is_served_as_a_sandboxed_attachment_and_a_png_inline() {
    let server = local_server("1048576");
    let room = unique_id();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>"#;
    let svg_message = share(&server, room, "x.svg", "image/svg+xml", svg).await;
    let png_message = share(&server, room, "y.png", "image/png", PNG).await;

    let (status, svg_headers, bytes) = download(
        &server.http_url(),
        svg_message["content"].as_str().expect("url"),
    )
    .await;
    let (_, png_headers, _) = download(
        &server.http_url(),
        png_message["content"].as_str().expect("url"),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, svg);
    let disposition = svg_headers["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(svg_headers["content-security-policy"], "sandbox");
    assert_eq!(svg_headers["x-content-type-options"], "nosniff");
    assert_eq!(png_headers["content-disposition"], "inline");
    assert_eq!(png_headers["content-security-policy"], "sandbox");
}

#[tokio::test]
async fn a_non_member_upload_is_refused_before_its_file_is_read() {
    let room = unique_id();
    let (_service, server, directory) = members_only_server(room).await;
    let mallory = token(3, "mallory");
    let boundary = "----chat-never-ending";
    let file_start = |field: &str| {
        let mut head = form_body(boundary, &[], false);
        head.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
                 filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        head.extend_from_slice(&[0_u8; 4096]);
        head
    };
    let room_text = room.to_string();
    let mut seed_head = form_body(
        boundary,
        &[
            Part::Text("type", "direct"),
            Part::Text("fileType", "image"),
            Part::Text("channelId", &room_text),
        ],
        false,
    );
    seed_head.extend_from_slice(&file_start("image")[..]);

    // The bodies never end: only a check made before reading the file can answer.
    let clean = raw_upload(
        &server,
        &format!("/api/v1/direct/{room}/files"),
        &mallory,
        boundary,
        &file_start("file"),
        None,
    )
    .await;
    let seed = raw_upload(
        &server,
        "/chat-server/file",
        &mallory,
        boundary,
        &seed_head,
        None,
    )
    .await;

    let (status, body) = clean.expect("an answer before the file was read");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not_a_member"), "{body}");
    let (status, body) = seed.expect("an answer before the file was read");
    assert_eq!(status, 403, "{body}");
    let stored = std::fs::read_dir(&directory).expect("directory").count();
    assert_eq!(stored, 0, "nothing was stored for a non-member");
}

#[tokio::test]
async fn a_seed_form_naming_its_room_after_the_file_is_refused() {
    let server = local_server("1048576");
    let room = unique_id().to_string();

    let (status, body) = upload(
        &server.http_url(),
        "/chat-server/file",
        &token(1, "alice"),
        &[
            Part::File("image", "a.png", "image/png", PNG),
            Part::Text("fileType", "image"),
            Part::Text("channelId", &room),
        ],
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "room_after_file");
}

#[tokio::test]
async fn a_chunked_upload_over_the_total_limit_is_refused_with_413() {
    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    let server = TestServer::start_with(&[
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
        ("CHAT_FILES__MAX_BYTES", "1000"),
        ("CHAT_REST__MAX_UPLOAD_BYTES", "3000"),
    ]);
    let room = unique_id();
    let boundary = "----chat-chunked";
    // Each file part is within its own limit; an extra part makes the whole too big.
    let junk = vec![b'j'; 5000];
    let body = form_body(
        boundary,
        &[
            Part::File("extra", "junk.bin", "application/octet-stream", &junk),
            Part::File("file", "a.png", "image/png", PNG),
        ],
        true,
    );
    let (head, rest) = body.split_at(body.len() / 2);

    let answer = raw_upload(
        &server,
        &format!("/api/v1/direct/{room}/files"),
        &token(1, "alice"),
        boundary,
        head,
        Some(rest),
    )
    .await;

    let (status, body) = answer.expect("an answer");
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("upload_too_large"), "{body}");
    assert!(history(&server, room, 1).await.is_empty());
}

#[tokio::test]
async fn an_upload_spends_the_write_allowance_not_the_read_one() {
    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    let server = TestServer::start_with(&[
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
        ("CHAT_LIMITS__READ_BURST", "1"),
        ("CHAT_LIMITS__READ_PER_SECOND", "0.001"),
    ]);
    let room = unique_id();

    share(&server, room, "a.png", "image/png", PNG).await;
    let (status, page) = server
        .rest()
        .get(
            &format!("/api/v1/direct/{room}/messages"),
            &token(1, "alice"),
        )
        .await;

    assert_eq!(
        status,
        StatusCode::OK,
        "the upload left the read allowance whole: {page}"
    );
}

#[tokio::test]
async fn a_user_with_too_many_uploads_in_progress_is_refused_with_429() {
    use tokio::io::AsyncWriteExt as _;

    let directory = std::env::temp_dir().join(services::unique_name("chat-files-e2e"));
    let server = TestServer::start_with(&[
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
        ("CHAT_REST__MAX_CONCURRENT_UPLOADS", "1"),
    ]);
    let room = unique_id();
    let alice = token(1, "alice");
    // An upload that never ends holds alice's one slot.
    let address = server.http_url().trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let boundary = "----chat-slow";
    let mut head = format!(
        "POST /api/v1/direct/{room}/files HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {alice}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\nfirst bytes"
    );
    head.extend_from_slice(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes());
    slow.write_all(&head).await.expect("the slow upload starts");
    slow.flush().await.expect("flushed");

    // Wait until the server holds the slow upload's slot (its gauge says so), then try another.
    let mut holding = false;
    for _ in 0..200 {
        let (_, _, metrics) = server.rest().get_text("/metrics").await;
        if metrics
            .lines()
            .any(|line| line.starts_with("chat_uploads_in_progress ") && !line.ends_with(" 0"))
        {
            holding = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(holding, "the slow upload holds a slot");
    let (status, body) = upload(
        &server.http_url(),
        &format!("/api/v1/direct/{room}/files"),
        &alice,
        &[Part::File("file", "b.png", "image/png", PNG)],
    )
    .await;
    let (bob, _) = upload(
        &server.http_url(),
        &format!("/api/v1/direct/{room}/files"),
        &token(2, "bob"),
        &[Part::File("file", "c.png", "image/png", PNG)],
    )
    .await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_uploads");
    assert_eq!(bob, StatusCode::CREATED, "other users are not limited");
    drop(slow);
}

//! A fake of the app's community service: answers the seed's HTTP endpoints
//! (`room-list`, `member-id`) and the channel lookup (`/channel/{channelId}`) on a real TCP
//! port from fixed data.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// What the fake knows.
#[derive(Debug, Default, Clone)]
pub struct CommunityData {
    /// `userId` → the seed's room list entries (`"direct/5"`, `"community/3"`).
    pub room_lists: HashMap<u64, Vec<String>>,
    /// DM room id → member ids.
    pub room_members: HashMap<u64, Vec<u64>>,
    /// Community id → member ids.
    pub community_members: HashMap<u64, Vec<u64>>,
    /// Channel id → the id of its community (what `GET /channel/{channelId}` answers).
    pub channel_communities: HashMap<u64, u64>,
}

/// A running fake community service.
pub struct FakeCommunityService {
    addr: SocketAddr,
}

fn respond(data: &CommunityData, path: &str) -> (u16, String) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let members = |list: Option<&Vec<u64>>| match list {
        Some(members) => (
            200,
            serde_json::json!({"result": {"members": members}}).to_string(),
        ),
        None => (404, "{}".to_owned()),
    };
    match parts.as_slice() {
        ["community", "feign", "room-list", user] => {
            let rooms = user
                .parse()
                .ok()
                .and_then(|u: u64| data.room_lists.get(&u).cloned())
                .unwrap_or_default();
            (200, serde_json::to_string(&rooms).unwrap_or_default())
        }
        ["room", "feign", room, "member-id"] => members(
            room.parse()
                .ok()
                .and_then(|r: u64| data.room_members.get(&r)),
        ),
        ["community", "feign", community, "member-id"] => members(
            community
                .parse()
                .ok()
                .and_then(|c: u64| data.community_members.get(&c)),
        ),
        ["channel", channel] => match channel
            .parse()
            .ok()
            .and_then(|c: u64| data.channel_communities.get(&c))
        {
            Some(community) => (
                200,
                serde_json::json!({"isSuccess": true, "code": 1000, "result": {"communityId": community}})
                    .to_string(),
            ),
            None => (404, "{}".to_owned()),
        },
        _ => (404, "{}".to_owned()),
    }
}

impl FakeCommunityService {
    /// Starts serving `data` on a free loopback port.
    #[expect(
        clippy::unused_async,
        reason = "the fakes' runtime serves; start stays async like the other test services'"
    )]
    pub async fn start(data: CommunityData) -> Self {
        let (listener, addr) = crate::fake_runtime::loopback_listener();
        let data = Arc::new(data);
        crate::fake_runtime::serve(listener, |listener| async move {
            while let Ok((socket, _)) = listener.accept().await {
                let data = data.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let Ok(Some(request)) = lines.next_line().await else {
                        return;
                    };
                    // Headers until the blank line; GETs carry no body.
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line.trim().is_empty() {
                            break;
                        }
                    }
                    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let (status, body) = respond(&data, &path);
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = write.write_all(response.as_bytes()).await;
                    let _ = write.shutdown().await;
                });
            }
        });
        Self { addr }
    }

    /// Serves one DM room, `room`, whose members are users 1, 2 and 3 (each listing it).
    pub async fn room_of_three(room: u64) -> Self {
        let rooms = vec![format!("direct/{room}")];
        Self::start(CommunityData {
            room_lists: (1..=3).map(|user| (user, rooms.clone())).collect(),
            room_members: HashMap::from([(room, vec![1, 2, 3])]),
            community_members: HashMap::new(),
            channel_communities: HashMap::new(),
        })
        .await
    }

    /// The base URL to configure the chat server with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

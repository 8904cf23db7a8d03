//! Opening a session (CONNECT: version, token, the user's cap, heart-beats) and
//! the client's goodbye (DISCONNECT).

use application::usecases::ConnectCommand;
use tokio::time::Instant;

use super::{Flow, Open, Session};
use crate::frame::{Command, Frame, Version};
use crate::heartbeat::{HeartBeats, negotiate};
use crate::refusal::Fatal;
use crate::transport::{Close, OutboundSink};

impl<O: OutboundSink> Session<O> {
    pub(super) async fn connect(&mut self, frame: &Frame) -> Flow {
        let Some(version) = Version::negotiate(frame.header("accept-version")) else {
            let fatal = Fatal::UnsupportedVersion;
            fatal.record();
            let error = Frame::new(Command::Error)
                .with_header("version", "1.0,1.1,1.2")
                .with_header("message", fatal.message())
                .with_header("content-type", "text/plain")
                .with_body("supported versions are 1.0, 1.1 and 1.2");
            self.write_frame(&error).await;
            self.close(Close::PROTOCOL_ERROR, fatal.message()).await;
            return Flow::Stop;
        };
        let token = frame
            .header("access-token")
            .or_else(|| {
                frame
                    .header("Authorization")
                    .or_else(|| frame.header("authorization"))
                    .map(|h| h.strip_prefix("Bearer ").unwrap_or(h))
            })
            .or_else(|| frame.header("passcode"))
            .map(str::to_owned);
        // The user's cap is checked before the session exists, so a refused connection
        // never announces its user online. A bad token is left to `connect` to explain.
        let user_permit = match token
            .as_deref()
            .map(|t| self.server.chat.access.authenticate(t))
        {
            Some(Ok(verified)) => match self.server.caps.admit_user(verified.user) {
                Ok(permit) => Some(permit),
                Err(cap) => {
                    self.server.caps.record_refusal(cap);
                    return self
                        .fail(
                            Fatal::TooManyConnections,
                            cap.message(),
                            frame.header("receipt"),
                        )
                        .await;
                }
            },
            _ => None,
        };
        let command = ConnectCommand {
            token,
            claimed_user: frame.header("user-id").map(str::to_owned),
        };
        match self.server.chat.sessions.connect(command).await {
            Ok(connected) => {
                self.permit.authenticated();
                self.version = version;
                self.decoder.set_version(version);
                self.heart_beats = if version == Version::V1_0 {
                    HeartBeats::default()
                } else {
                    negotiate(
                        frame.header("heart-beat"),
                        self.offer.send_ms,
                        self.offer.receive_ms,
                    )
                };
                let offered = format!(
                    "{},{}",
                    self.heart_beats.send_every.map_or(0, |d| d.as_millis()),
                    self.heart_beats.expect_every.map_or(0, |d| d.as_millis())
                );
                let reply = Frame::new(Command::Connected)
                    .with_header("version", version.as_str())
                    .with_header("heart-beat", offered)
                    .with_header("server", concat!("chat-server/", env!("CARGO_PKG_VERSION")))
                    .with_header("session", connected.session.id.as_str())
                    .with_header("user-name", connected.session.user.to_string());
                let now = Instant::now();
                self.open = Some(Open {
                    session: connected.session.id,
                    user: connected.session.user,
                    _permit: user_permit,
                    expires: now + connected.token_valid_for,
                });
                let interval = self.reauthorize_interval();
                self.reauthorize_at = (!interval.is_zero()).then(|| now + interval);
                self.write_frame(&reply).await
            }
            Err(error) => {
                tracing::info!(%error, "connect refused");
                self.fail(
                    Fatal::ConnectRefused,
                    &error.to_string(),
                    frame.header("receipt"),
                )
                .await
            }
        }
    }

    /// The SENDs before the DISCONNECT are answered first: its RECEIPT confirms them all.
    pub(super) async fn disconnect(&mut self, receipt: Option<&str>) -> Flow {
        self.settle().await;
        if let Some(open) = self.open.take()
            && let Err(error) = self.server.chat.sessions.disconnect(open.session).await
        {
            tracing::error!(?error, "session could not be closed");
        }
        self.receipt(receipt).await;
        self.close(Close::NORMAL, "bye").await;
        Flow::Stop
    }
}

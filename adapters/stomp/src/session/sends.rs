//! SEND: a destination and body become a request to the chat service, or a refusal.

use application::ports::inbound::RequestKind;
use domain::UserId;

use super::{Flow, Session};
use crate::ChatPorts;
use crate::destination::{SendTarget, parse_send};
use crate::frame::Frame;
use crate::lobby_payload::parse_lobby_request;
use crate::payload::{Request, parse_request};
use crate::refusal::{Fatal, Refusal};
use crate::refusal_budget::quoted;
use crate::transport::OutboundSink;

impl<O: OutboundSink> Session<O> {
    pub(super) async fn send(
        &mut self,
        user: UserId,
        frame: &Frame,
        receipt: Option<&str>,
    ) -> Flow {
        let Some(destination) = frame.header("destination").map(str::to_owned) else {
            return self
                .fail(
                    Fatal::MissingHeader,
                    "SEND needs a destination header",
                    receipt,
                )
                .await;
        };
        let request = match parse_send(&destination) {
            SendTarget::Chat(kind, verb) => parse_request(kind, verb, user, &frame.body),
            SendTarget::Lobby(action) => parse_lobby_request(action, user, &frame.body),
            SendTarget::Broker => Err(Refusal::new(
                "forbidden_destination",
                format!(
                    "clients may not send to `{}`; use the /kafka/ destinations",
                    quoted(&destination)
                ),
            )),
            SendTarget::Unknown => Err(Refusal::new(
                "unknown_destination",
                format!("unknown destination `{}`", quoted(&destination)),
            )),
        };
        let outcome = match request {
            Ok(request) => self.execute(user, request).await,
            Err(refusal) => Err(refusal),
        };
        match outcome {
            Ok(()) => self.receipt(receipt).await,
            Err(refusal) => self.refuse(&refusal, Some(&destination), receipt).await,
        }
    }

    async fn execute(&self, user: UserId, request: Request) -> Result<(), Refusal> {
        let ChatPorts {
            access,
            messaging,
            navigation,
            ..
        } = &self.server.chat;
        access
            .admit(user, RequestKind::Write)
            .await
            .map_err(Refusal::from)?;
        match request {
            Request::Post(cmd) => messaging.post(cmd).await.map(drop).map_err(Refusal::from),
            Request::Reply(cmd) => messaging.reply(cmd).await.map(drop).map_err(Refusal::from),
            Request::Edit(cmd) => messaging.edit(cmd).await.map(drop).map_err(Refusal::from),
            Request::Delete(cmd) => messaging.delete(cmd).await.map(drop).map_err(Refusal::from),
            Request::Typing(cmd) => messaging.typing(cmd).await.map_err(Refusal::from),
            Request::ChangeLocation(user, to) => navigation
                .change_location(user, to)
                .await
                .map(drop)
                .map_err(Refusal::from),
            Request::EnterVoice {
                user,
                community,
                channel,
            } => navigation
                .enter_voice(user, community, channel)
                .await
                .map(drop)
                .map_err(Refusal::from),
        }
    }
}

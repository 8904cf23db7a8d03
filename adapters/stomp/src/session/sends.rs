//! SEND: a destination and body become a request to the chat service, or a refusal.

use application::ports::inbound::RequestKind;
use domain::{Message, MessageId, Seq, UserId};

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
            SendTarget::Chat(kind, verb) => {
                parse_request(kind, verb, user, &frame.body, frame.header("client-msg-id"))
            }
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
            Ok(stored) => self.send_receipt(receipt, stored.as_ref()).await,
            Err(refusal) => self.refuse(&refusal, Some(&destination), receipt).await,
        }
    }

    /// Carries out `request`; for a message posted, replied, edited or deleted, what its
    /// RECEIPT names.
    async fn execute(&self, user: UserId, request: Request) -> Result<Option<Stored>, Refusal> {
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
            Request::Post(cmd) => messaging
                .post(cmd)
                .await
                .map(|message| Some(Stored::posted(&message)))
                .map_err(Refusal::from),
            Request::Reply(cmd) => messaging
                .reply(cmd)
                .await
                .map(|message| Some(Stored::posted(&message)))
                .map_err(Refusal::from),
            Request::Edit(cmd) => messaging
                .edit(cmd)
                .await
                .map(|message| Some(Stored::changed(&message)))
                .map_err(Refusal::from),
            Request::Delete(cmd) => messaging
                .delete(cmd)
                .await
                .map(|message| Some(Stored::changed(&message)))
                .map_err(Refusal::from),
            Request::Typing(cmd) => messaging
                .typing(cmd)
                .await
                .map(|()| None)
                .map_err(Refusal::from),
            Request::ChangeLocation(user, to) => navigation
                .change_location(user, to)
                .await
                .map(|_| None)
                .map_err(Refusal::from),
            Request::EnterVoice {
                user,
                community,
                channel,
            } => navigation
                .enter_voice(user, community, channel)
                .await
                .map(|_| None)
                .map_err(Refusal::from),
        }
    }
}

/// What the RECEIPT of a SEND that stored a message names: its `message-id`, and for a new
/// message (a post or a reply) its `seq`, so the sender can place it without waiting for
/// the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stored {
    pub(super) message: MessageId,
    pub(super) seq: Option<Seq>,
}

impl Stored {
    fn posted(message: &Message) -> Self {
        Self {
            message: message.id().clone(),
            seq: Some(message.seq()),
        }
    }

    /// An edit or delete: the message's posting `seq` is not the change's, so none is named.
    fn changed(message: &Message) -> Self {
        Self {
            message: message.id().clone(),
            seq: None,
        }
    }
}

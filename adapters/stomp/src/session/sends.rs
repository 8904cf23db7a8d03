//! SEND: a destination and body become a request to the chat service, run beside the
//! session's loop (`in_flight`), or a refusal.

use application::ports::inbound::{RequestKind, SendTurn};
use domain::{Message, MessageId, Seq, UserId};

use super::in_flight::Answer;
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
    /// Starts a SEND beside the session's loop; its answer comes, in the order SENDs were
    /// received, through [`Session::answered`]. Only a SEND without a destination ends the
    /// session (after the SENDs before it are answered).
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
        let receipt = receipt.map(str::to_owned);
        match request {
            Ok(request) => {
                // Only changes to a room's messages wait in line; typing and moves need no order.
                let turn = if request.changes_messages() {
                    self.sends.next_turn()
                } else {
                    SendTurn::free()
                };
                let server = self.server.clone();
                let work = async move { execute(&server.chat, user, request, turn).await };
                self.sends.run(&self.server, receipt, destination, work);
            }
            Err(refusal) => self.sends.answer_now(Answer {
                receipt,
                destination,
                outcome: Err(refusal),
            }),
        }
        Flow::Continue
    }

    /// Answers a finished SEND: its RECEIPT, or its refusal.
    pub(super) async fn answer(&mut self, answer: Answer) -> Flow {
        let Answer {
            receipt,
            destination,
            outcome,
        } = answer;
        match outcome {
            Ok(stored) => self.send_receipt(receipt.as_deref(), stored.as_ref()).await,
            Err(refusal) => {
                self.refuse(&refusal, Some(&destination), receipt.as_deref())
                    .await
            }
        }
    }

    /// Waits for every running SEND and answers each, in order: what the client sent before
    /// the session's last frame is answered before it. Refusals here spend no budget, so
    /// settling never ends the session a second time.
    pub(super) async fn settle(&mut self) {
        while let Some(answer) = self.sends.next().await {
            match answer.outcome {
                Ok(stored) => {
                    self.send_receipt(answer.receipt.as_deref(), stored.as_ref())
                        .await;
                }
                Err(refusal) => {
                    refusal.record();
                    self.tell_error(
                        &refusal,
                        Some(&answer.destination),
                        answer.receipt.as_deref(),
                    )
                    .await;
                }
            }
        }
    }
}

/// Carries out `request`; for a message posted, replied, edited or deleted, what its
/// RECEIPT names.
async fn execute(
    chat: &ChatPorts,
    user: UserId,
    request: Request,
    turn: SendTurn,
) -> Result<Option<Stored>, Refusal> {
    let ChatPorts {
        access,
        messaging,
        navigation,
        ..
    } = chat;
    access
        .admit(user, RequestKind::Write)
        .await
        .map_err(Refusal::from)?;
    // A change to a room's messages also spends the room's allowance, which all its posters
    // share (typing is not counted: it is stored nowhere, and each user's typing is already
    // within their own write allowance), then waits while the room's delivery is behind.
    if let Some(room) = request.changed_room() {
        access.admit_room(user, room).await.map_err(Refusal::from)?;
        access.pace_publish(room).await.map_err(Refusal::from)?;
    }
    match request {
        Request::Post(cmd) => messaging
            .post(cmd, turn)
            .await
            .map(|message| Some(Stored::posted(&message)))
            .map_err(Refusal::from),
        Request::Reply(cmd) => messaging
            .reply(cmd, turn)
            .await
            .map(|message| Some(Stored::posted(&message)))
            .map_err(Refusal::from),
        Request::Edit(cmd) => messaging
            .edit(cmd, turn)
            .await
            .map(|message| Some(Stored::changed(&message)))
            .map_err(Refusal::from),
        Request::Delete(cmd) => messaging
            .delete(cmd, turn)
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

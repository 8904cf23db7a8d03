//! How a session answers what it will not do: a refusal that keeps the session
//! (told on `/user/queue/errors`, within a budget), or a fatal error that ends it
//! (an ERROR frame, then the close).

use super::{Flow, Session};
use crate::destination::ERROR_QUEUE;
use crate::frame::{Command, Frame};
use crate::refusal::{Fatal, Refusal};
use crate::refusal_budget::quoted;
use crate::transport::{Close, OutboundSink};

impl<O: OutboundSink> Session<O> {
    /// A refusal that keeps the session: logged (the session's first few), and sent
    /// to `/user/queue/errors` when the client subscribed to it. A session that
    /// provokes refusals faster than its budget allows is closed instead.
    pub(super) async fn refuse(
        &mut self,
        refusal: &Refusal,
        destination: Option<&str>,
        receipt: Option<&str>,
    ) -> Flow {
        refusal.record();
        if refusal.is_server_busy() {
            return self.tell_error(refusal, destination, receipt).await;
        }
        let verdict = self.refusals.spend();
        if verdict.log {
            let destination = destination.map(quoted);
            tracing::info!(code = refusal.code, message = %refusal.message, destination = destination.as_deref(), "request refused");
        }
        if verdict.exhausted {
            return self
                .fail(
                    Fatal::TooManyRefusals,
                    "too many refused requests in a short time",
                    receipt,
                )
                .await;
        }
        self.tell_error(refusal, destination, receipt).await
    }

    /// Sends `refusal` to the client's `/user/queue/errors`, if it subscribed to it.
    pub(super) async fn tell_error(
        &mut self,
        refusal: &Refusal,
        destination: Option<&str>,
        receipt: Option<&str>,
    ) -> Flow {
        let Some(subscription) = self.error_queue.clone() else {
            return Flow::Continue;
        };
        self.sent_messages += 1;
        let body = refusal.to_json(destination, receipt);
        let frame = Frame::new(Command::Message)
            .with_header("destination", ERROR_QUEUE)
            .with_header("subscription", subscription)
            .with_header("message-id", format!("e-{}", self.sent_messages))
            .with_header("content-type", "application/json;charset=UTF-8")
            .with_header("content-length", body.len().to_string())
            .with_body(body);
        self.write_frame(&frame).await
    }

    /// A fatal error: the SENDs received before it are answered, then an ERROR frame,
    /// then the socket closes.
    pub(super) async fn fail(&mut self, fatal: Fatal, detail: &str, receipt: Option<&str>) -> Flow {
        self.settle().await;
        let message = fatal.message();
        tracing::info!(message, detail, "closing session with ERROR");
        fatal.record();
        let mut frame = Frame::new(Command::Error)
            .with_header("message", message)
            .with_header("content-type", "text/plain");
        if let Some(id) = receipt {
            frame = frame.with_header("receipt-id", id);
        }
        let frame = frame
            .with_header("content-length", detail.len().to_string())
            .with_body(detail.to_owned());
        self.write_frame(&frame).await;
        self.close(Close::POLICY_VIOLATION, message).await;
        Flow::Stop
    }
}

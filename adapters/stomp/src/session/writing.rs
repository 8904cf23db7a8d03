//! Everything a session writes: frames (receipts, deliveries), heart-beats and the
//! close, each within the write deadline; a client that misses one is stuck and
//! gets nothing more.

use tokio::time::Instant;

use super::seams::Offer;
use super::{Flow, Session, count_frame};
use crate::frame::{Command, Frame, to_bytes};
use crate::hub::Delivery;
use crate::transport::{Close, OutboundSink};
use metric_names::stomp as metric;

impl<O: OutboundSink> Session<O> {
    pub(super) async fn receipt(&mut self, receipt: Option<&str>) -> Flow {
        match receipt {
            Some(id) => {
                let frame = Frame::new(Command::Receipt).with_header("receipt-id", id);
                self.write_frame(&frame).await
            }
            None => Flow::Continue,
        }
    }

    /// The RECEIPT of a SEND, naming the message it stored, if any.
    pub(super) async fn send_receipt(
        &mut self,
        receipt: Option<&str>,
        stored: Option<&super::sends::Stored>,
    ) -> Flow {
        let (Some(id), Some(stored)) = (receipt, stored) else {
            return self.receipt(receipt).await;
        };
        let mut frame = Frame::new(Command::Receipt)
            .with_header("receipt-id", id)
            .with_header("message-id", stored.message.as_str());
        if let Some(seq) = stored.seq {
            frame = frame.with_header("seq", seq.get().to_string());
        }
        self.write_frame(&frame).await
    }

    /// A live delivery from the hub, through the seam of a resumed subscription; then,
    /// with the queue empty, the gaps of what did not fit in it meanwhile.
    pub(super) async fn deliver(&mut self, delivery: Delivery) -> Flow {
        let flow = match self.seams.offer(delivery) {
            Offer::Deliver(delivery) => self.write_delivery(delivery).await,
            Offer::Absorbed => Flow::Continue,
            Offer::Overflow => {
                self.mailbox.overflow.cancel();
                Flow::Continue
            }
        };
        if let Flow::Stop = flow {
            return flow;
        }
        for gap in self.mailbox.gaps_due() {
            if let Flow::Stop = self.write_delivery(gap).await {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Writes a MESSAGE frame.
    pub(super) async fn write_delivery(&mut self, delivery: Delivery) -> Flow {
        self.sent_messages += 1;
        let frame = Frame::new(Command::Message)
            .with_header("destination", &*delivery.destination)
            .with_header("subscription", &*delivery.subscription)
            .with_header("message-id", self.sent_messages.to_string())
            // The seed sent its JSON as a Spring String payload, hence text/plain.
            .with_header("content-type", "text/plain;charset=UTF-8")
            .with_header("content-length", delivery.body.len().to_string())
            .with_body(delivery.body);
        self.write_frame(&frame).await
    }

    pub(super) async fn write_frame(&mut self, frame: &Frame) -> Flow {
        let bytes = to_bytes(frame, self.version);
        self.write(bytes.to_vec(), frame.command.as_str()).await
    }

    /// Writes a frame (or a heart-beat), counted under `command` once sent. A
    /// client that does not take it in time (see [`StompServer::bounded`]) is
    /// stuck: the session ends without writing anything more.
    pub(super) async fn write(&mut self, bytes: Vec<u8>, command: &'static str) -> Flow {
        if self.stuck {
            return Flow::Stop;
        }
        let server = self.server.clone();
        match server.bounded(self.out.send(bytes)).await {
            Some(Ok(())) => {
                self.last_sent = Instant::now();
                count_frame(metric::FRAMES_SENT, command);
                Flow::Continue
            }
            Some(Err(_closed)) => {
                tracing::debug!("transport closed; write failed");
                Flow::Stop
            }
            None => {
                self.stuck();
                Flow::Stop
            }
        }
    }

    /// Ends the transport, within the same bounds as a write; nothing is attempted
    /// on a client that is already stuck.
    pub(super) async fn close(&mut self, code: u16, reason: &str) {
        if self.stuck {
            return;
        }
        let server = self.server.clone();
        if server
            .bounded(self.out.close(Close::new(code, reason)))
            .await
            .is_none()
        {
            self.stuck();
        }
    }

    fn stuck(&mut self) {
        tracing::info!("client did not take a write in time; ending its session");
        metrics::counter!(metric::WRITE_TIMEOUTS).increment(1);
        self.stuck = true;
    }
}

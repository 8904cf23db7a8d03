//! The receiving HTTP transports: `xhr` (one frame per request), `xhr_streaming` and
//! `eventsource` (frames as they come, until the response limit). The first receiving
//! request of an unknown session id opens the session.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt as _, stream};
use poem::http::{Method, StatusCode};
use poem::{Body, Request, Response};

use super::frame::ServerFrame;
use super::http::{
    EVENT_STREAM, JAVASCRIPT, Verb, cors, method_not_allowed, not_found, preflight, uncached, verb,
};
use super::registry::Lookup;
use super::session::{Attach, Receiver};
use super::{SockJs, remote_ip, session_id};
use crate::transport::HeartBeatOffer;

/// Which receiving transport a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Receiving {
    Polling,
    XhrStreaming,
    EventSource,
}

impl Receiving {
    fn name(self) -> &'static str {
        match self {
            Self::Polling => "xhr",
            Self::XhrStreaming => "xhr_streaming",
            Self::EventSource => "eventsource",
        }
    }

    fn method(self) -> Method {
        match self {
            Self::Polling | Self::XhrStreaming => Method::POST,
            Self::EventSource => Method::GET,
        }
    }

    fn allow(self) -> &'static str {
        match self {
            Self::Polling | Self::XhrStreaming => "OPTIONS, POST",
            Self::EventSource => "OPTIONS, GET",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Polling | Self::XhrStreaming => JAVASCRIPT,
            Self::EventSource => EVENT_STREAM,
        }
    }

    fn streams(self) -> bool {
        !matches!(self, Self::Polling)
    }

    /// What goes before the first frame: 2 KiB for browsers that buffer the start of
    /// a streamed XHR, a new line for Opera's EventSource.
    fn prelude(self) -> Option<Bytes> {
        match self {
            Self::Polling => None,
            Self::XhrStreaming => {
                let mut prelude = vec![b'h'; 2048];
                prelude.push(b'\n');
                Some(Bytes::from(prelude))
            }
            Self::EventSource => Some(Bytes::from_static(b"\r\n")),
        }
    }

    fn wrap(self, frame: &ServerFrame) -> Bytes {
        let text = frame.encode();
        Bytes::from(match self {
            Self::Polling | Self::XhrStreaming => text + "\n",
            Self::EventSource => format!("data: {text}\r\n\r\n"),
        })
    }

    /// Honest STOMP heart-beats: a stream delivers server frames at once, a poll only
    /// on the next request, so polling offers no server heart-beats (client ones
    /// travel on `xhr_send` at once either way). See the module documentation.
    fn offer(self, sockjs: &SockJs) -> HeartBeatOffer {
        let offer = sockjs.server.websocket_offer();
        if self.streams() {
            offer
        } else {
            HeartBeatOffer {
                send_ms: 0,
                receive_ms: offer.receive_ms,
            }
        }
    }
}

/// Serves one receiving request.
pub(crate) fn receive(sockjs: &Arc<SockJs>, request: &Request, kind: Receiving) -> Response {
    match verb(request, &kind.method()) {
        Verb::Options => return preflight(request, kind.allow()),
        Verb::Other => return method_not_allowed(kind.allow()),
        Verb::Allowed => {}
    }
    let Some(id) = session_id(request) else {
        return not_found();
    };
    let mut head: Vec<Bytes> = kind.prelude().into_iter().collect();
    let from = remote_ip(request);
    let lookup = sockjs
        .registry
        .get_or_create(id, from, sockjs.settings().max_sessions, || {
            sockjs.open_session()
        });
    let lookup = match lookup {
        Ok(lookup) => lookup,
        Err(cap) => return cors(request, sockjs.server.refuse(cap)),
    };
    let receiver = match lookup {
        Lookup::Foreign => return cors(request, not_found()),
        Lookup::Created(session, inbound, outbound) => {
            // A new session takes a socket's place under the caps; without one it is
            // forgotten again before its STOMP task ever starts.
            let permit = match sockjs.server.admit_socket(request.remote_addr()) {
                Ok(permit) => permit,
                Err(cap) => {
                    session.close(ServerFrame::Close(1013, "Try again later".to_owned()));
                    sockjs.registry.remove(id, &session);
                    return cors(request, sockjs.server.refuse(cap));
                }
            };
            let span = tracing::info_span!("stomp.session", peer = %request.remote_addr(), transport = kind.name());
            sockjs.start(
                id.to_owned(),
                (session.clone(), inbound, outbound),
                kind.offer(sockjs),
                span,
                permit,
            );
            head.push(kind.wrap(&ServerFrame::Open));
            // A poll answers the open frame alone; a stream goes on receiving.
            match session.attach() {
                Attach::Attached(receiver) if kind.streams() => Some(receiver),
                _ => None,
            }
        }
        Lookup::Existing(session) => match session.attach() {
            Attach::Attached(receiver) => Some(receiver),
            Attach::Closed(frame) => {
                head.push(kind.wrap(&frame));
                None
            }
            Attach::Busy => {
                head.push(kind.wrap(&ServerFrame::another_connection()));
                None
            }
        },
    };
    let frames = receiver.map(|receiver| {
        frames(
            receiver,
            kind,
            sockjs.heartbeat(),
            sockjs.settings().stream_limit_bytes,
        )
    });
    let body = stream::iter(head.into_iter().map(Ok)).chain(stream::iter(frames).flatten());
    cors(
        request,
        uncached(StatusCode::OK, kind.content_type()).body(Body::from_bytes_stream(body)),
    )
}

/// The frames of an attached receiver: one for a poll; for a stream, frames until
/// the close frame or `limit` bytes. The receiver detaches when this ends or the
/// client goes away (the stream is dropped).
fn frames(
    receiver: Receiver,
    kind: Receiving,
    heartbeat: std::time::Duration,
    limit: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    stream::unfold(Some((receiver, 0_usize)), move |state| async move {
        let (mut receiver, sent) = state?;
        let frame = receiver.next_frame(heartbeat).await;
        let bytes = kind.wrap(&frame);
        let sent = sent + bytes.len();
        let more = kind.streams() && !matches!(frame, ServerFrame::Close(..)) && sent < limit;
        Some((Ok(bytes), more.then_some((receiver, sent))))
    })
}

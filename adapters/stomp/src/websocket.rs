//! The raw STOMP-over-WebSocket endpoint (`/my-chat/websocket`, the seed's iOS client):
//! one WebSocket message per STOMP frame, STOMP's own heart-beats, no extra framing.

use std::sync::Arc;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketStream};
use poem::{Endpoint, FromRequest as _, IntoResponse as _, Request, Response};
use tracing::Instrument as _;

use crate::server::StompServer;
use crate::transport::{Close, Inbound, InboundSource, OutboundSink, TransportClosed};

/// The STOMP sub-protocols we speak, best first.
const SUBPROTOCOLS: [&str; 3] = ["v12.stomp", "v11.stomp", "v10.stomp"];

/// The receiving half of a WebSocket, as the session reads it.
pub(crate) struct WebSocketInbound(pub(crate) SplitStream<WebSocketStream>);

impl InboundSource for WebSocketInbound {
    async fn next(&mut self) -> Inbound {
        match self.0.next().await {
            Some(Ok(Message::Text(text))) => Inbound::Data(text.into_bytes()),
            Some(Ok(Message::Binary(data))) => Inbound::Data(data),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Inbound::Alive,
            Some(Ok(Message::Close(_))) | None => Inbound::Closed,
            Some(Err(error)) => {
                tracing::debug!(?error, "socket error");
                Inbound::Closed
            }
        }
    }
}

/// The sending half: text messages (binary for the rare frame that is not UTF-8).
/// Unbounded on its own: the session puts a deadline on every call.
pub(crate) struct WebSocketOutbound(pub(crate) SplitSink<WebSocketStream, Message>);

impl OutboundSink for WebSocketOutbound {
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportClosed> {
        let message = match String::from_utf8(frame) {
            Ok(text) => Message::Text(text),
            Err(raw) => Message::Binary(raw.into_bytes()),
        };
        self.0.send(message).await.map_err(|error| {
            tracing::debug!(?error, "socket write failed");
            TransportClosed
        })
    }

    async fn close(&mut self, close: Close) {
        let _ = self
            .0
            .send(Message::close_with(
                CloseCode::from(close.code),
                close.reason,
            ))
            .await;
        let _ = self.0.close().await;
    }
}

/// The poem endpoint for `/my-chat/websocket`.
pub fn websocket_endpoint(server: Arc<StompServer>) -> impl Endpoint<Output = Response> {
    poem::endpoint::make(move |request: Request| {
        let server = server.clone();
        async move {
            let websocket = WebSocket::from_request_without_body(&request).await?;
            let permit = match server.admit_socket(request.remote_addr()) {
                Ok(permit) => permit,
                Err(cap) => return Ok(server.refuse(cap)),
            };
            let config = server.websocket_config();
            let span = tracing::info_span!("stomp.session", peer = %request.remote_addr());
            Ok::<_, poem::Error>(
                websocket
                    .protocols(SUBPROTOCOLS)
                    .config(config)
                    .on_upgrade(move |socket| {
                        let (sink, stream) = socket.split();
                        let offer = server.websocket_offer();
                        let session = server.clone().run_session(
                            WebSocketOutbound(sink),
                            WebSocketInbound(stream),
                            offer,
                            permit,
                        );
                        server.track(session).instrument(span)
                    })
                    .into_response(),
            )
        }
    })
}

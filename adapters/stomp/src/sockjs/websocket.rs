//! The SockJS `websocket` transport: SockJS frames (`o`, `h`, `a[…]`, `c[…]`) over a
//! WebSocket, client messages as JSON arrays of strings. The session lives exactly as
//! long as the socket.

use std::sync::Arc;

use futures::{SinkExt as _, StreamExt as _};
use metric_names::stomp as metric;
use poem::http::Method;
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketStream};
use poem::{FromRequest as _, IntoResponse as _, Request, Response};
use tracing::Instrument as _;

use super::frame::{ServerFrame, decode};
use super::session::Attach;
use super::{SockJs, go_away, session_id};
use crate::caps::SocketPermit;

/// Serves `GET /{server}/{session}/websocket`.
pub(crate) async fn upgrade(sockjs: Arc<SockJs>, request: Request) -> poem::Result<Response> {
    if request.method() != Method::GET {
        return Ok(super::http::method_not_allowed("GET"));
    }
    if session_id(&request).is_none() {
        return Ok(super::http::not_found());
    }
    let websocket = WebSocket::from_request_without_body(&request).await?;
    let permit = match sockjs.server.admit_socket(request.remote_addr()) {
        Ok(permit) => permit,
        Err(cap) => return Ok(sockjs.server.refuse(cap)),
    };
    let max_message = sockjs.max_payload_bytes();
    let config = sockjs
        .server
        .websocket_config()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
        .max_write_buffer_size(max_message * 4);
    let span = tracing::info_span!("stomp.session", peer = %request.remote_addr(), transport = "sockjs-websocket");
    Ok(websocket
        .config(config)
        .on_upgrade(move |socket| {
            let server = sockjs.server.clone();
            server.track(serve(sockjs, socket, permit)).instrument(span)
        })
        .into_response())
}

async fn serve(sockjs: Arc<SockJs>, socket: WebSocketStream, permit: SocketPermit) {
    let (session, inbound, outbound) = sockjs.open_session();
    let Attach::Attached(mut receiver) = session.attach() else {
        return;
    };
    let (mut sink, mut stream) = socket.split();
    let heartbeat = sockjs.heartbeat();
    let offer = sockjs.server.websocket_offer();

    let stomp = async {
        sockjs
            .server
            .clone()
            .run_session(outbound, inbound, offer, permit)
            .await;
        session.close(go_away());
    };
    let reader = async {
        loop {
            let message = tokio::select! {
                () = session.closed() => break,
                message = stream.next() => message,
            };
            let payload = match message {
                Some(Ok(Message::Text(text))) => text.into_bytes(),
                Some(Ok(Message::Binary(data))) => data,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    session.close(ServerFrame::Close(
                        1002,
                        "Connection interrupted".to_owned(),
                    ));
                    break;
                }
            };
            if payload.is_empty() {
                continue;
            }
            match decode(&payload) {
                Ok(messages) => {
                    if session.deliver(messages).await.is_err() {
                        break;
                    }
                }
                Err(error) => {
                    tracing::info!(%error, "SockJS WebSocket payload refused; closing");
                    session.close(ServerFrame::Close(1002, error.to_string()));
                    break;
                }
            }
        }
    };
    // Every write has a deadline: a client that does not read must not keep this
    // task (and so shutdown) waiting.
    let server = &sockjs.server;
    let writer = async {
        let mut frame = ServerFrame::Open;
        loop {
            let last = matches!(frame, ServerFrame::Close(..));
            let sent = server
                .bounded(sink.send(Message::Text(frame.encode())))
                .await;
            if !matches!(sent, Some(Ok(()))) {
                if sent.is_none() {
                    tracing::info!("SockJS client did not take a frame in time; closing");
                    metrics::counter!(metric::WRITE_TIMEOUTS).increment(1);
                }
                session.close(ServerFrame::Close(
                    1002,
                    "Connection interrupted".to_owned(),
                ));
                break;
            }
            if last {
                let closing = async {
                    let _ = sink
                        .send(Message::close_with(CloseCode::Normal, String::new()))
                        .await;
                    let _ = sink.close().await;
                };
                let _ = server.bounded(closing).await;
                break;
            }
            frame = receiver.next_frame(heartbeat).await;
        }
    };
    tokio::join!(stomp, reader, writer);
}

#!/usr/bin/env bash
# Drives a chat-server binary with real client libraries from npm: @stomp/stompjs
# (stompjs-chat.mjs) over a raw WebSocket and over SockJS with each SockJS transport
# forced in turn, and the seed's web stack, sockjs-client + webstomp-client
# (webstomp-chat.mjs), with its default transport choice and with xhr-streaming. Then
# graceful degradation (stompjs-overload.mjs): on a second server with small outbound
# queues, a SEND refused `overloaded` while the room's reader stops reading, and its
# retry with the same client-msg-id stored once the reader reads again.
#
#   tools/interop/run.sh path/to/chat-server
#
# Builds nothing: starts the given binary in embedded mode on a free loopback port, mints
# tokens for alice (user 1) and bob (user 2) with its `token` subcommand, installs the
# locked npm packages if node_modules is missing, runs the checks, stops the server and
# exits non-zero when any check failed. Needs node, npm and python3.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/chat-server" >&2
  exit 2
fi

server="$1"
case "$server" in /*) ;; *) server="$PWD/$server" ;; esac
if [ ! -f "$server" ] || [ ! -x "$server" ]; then
  echo "$0: $1 is not an executable chat-server binary" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"

for tool in node npm python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: $tool is required" >&2
    exit 2
  fi
done

cd "$here"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# shellcheck source=../start-server.sh
. "$here/../start-server.sh"

alice_token="$("$server" token --user 1 --name alice)"
bob_token="$("$server" token --user 2 --name bob)"

export CHAT_WS_URL="ws://127.0.0.1:$port/my-chat/websocket"
export CHAT_SOCKJS_URL="http://127.0.0.1:$port/my-chat"
export ALICE_TOKEN="$alice_token" BOB_TOKEN="$bob_token"

status=0
for transport in websocket sockjs-websocket sockjs-xhr-streaming sockjs-xhr-polling sockjs-eventsource; do
  echo "--- @stomp/stompjs over $transport"
  CHAT_TRANSPORT="$transport" node stompjs-chat.mjs || status=$?
done
for transports in "" xhr-streaming; do
  echo "--- sockjs-client + webstomp-client (${transports:-default transports})"
  SOCKJS_TRANSPORTS="$transports" node webstomp-chat.mjs || status=$?
done

server_log_on_failure "$status"
stop_server

# Graceful degradation needs queues that fill after a few frames, a short wait before
# `overloaded`, no write limit in the way, and the paused reader kept (neither a write
# timeout nor the slow-consumer rule closes it within the check).
export CHAT_STOMP__OUTBOUND_QUEUE=4 CHAT_STOMP__OVERLOAD_WAIT_MS=200 \
  CHAT_STOMP__WRITE_TIMEOUT_MS=30000 CHAT_STOMP__SLOW_CONSUMER_MS=30000 \
  CHAT_LIMITS__WRITE_PER_SECOND=100000 CHAT_LIMITS__WRITE_BURST=100000 \
  CHAT_LIMITS__ROOM_WRITE_PER_SECOND=0
# shellcheck source=../start-server.sh
. "$here/../start-server.sh"
echo "--- @stomp/stompjs: overloaded, then a retry (small outbound queues)"
overload_status=0
CHAT_WS_URL="ws://127.0.0.1:$port/my-chat/websocket" node stompjs-overload.mjs || overload_status=$?
server_log_on_failure "$overload_status"
[ "$overload_status" -eq 0 ] || status=$overload_status
exit "$status"

#!/usr/bin/env bash
# Drives a chat-server binary with real client libraries from npm: @stomp/stompjs
# (stompjs-chat.mjs) over a raw WebSocket and over SockJS with each SockJS transport
# forced in turn, and the seed's web stack, sockjs-client + webstomp-client
# (webstomp-chat.mjs), with its default transport choice and with xhr-streaming.
#
#   tools/interop/run.sh path/to/chat-server
#
# Builds nothing: starts the given binary in embedded mode on a free loopback port, mints
# tokens for alice (user 1) and bob (user 2) with its `token` subcommand, installs the
# locked npm packages if node_modules is missing, runs the check, stops the server and
# exits with the check's status. Needs node, npm and python3.
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
exit "$status"

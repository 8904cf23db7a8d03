#!/usr/bin/env bash
# Drives the web chat page of a chat-server binary in headless Chromium (web-chat.mjs).
#
#   tools/browser/run.sh path/to/chat-server [screenshot.png]
#
# Builds nothing: installs Debian's chromium when /usr/bin/chromium is missing (apt-get,
# with sudo when not root), installs the locked npm packages if node_modules is missing,
# starts the given binary in embedded mode (development secret, so the page gets
# development tokens) on a free loopback port, runs the check, stops the server and exits
# with the check's status. The screenshot goes to target/artifacts/web-chat.png unless
# another path is given. Needs node, npm and python3.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 path/to/chat-server [screenshot.png]" >&2
  exit 2
fi

absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
server="$(absolute "$1")"
screenshot="$(absolute "${2:-target/artifacts/web-chat.png}")"
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

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "installing Debian's chromium" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

cd "$here"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The development secret is what turns development tokens on: make sure no
# configuration of the caller's environment replaces it.
unset CHAT_JWT__SECRET CHAT_CONFIG
# The check posts more than a page of history at once, and makes a resume miss more
# than the server replays.
export CHAT_LIMITS__WRITE_BURST="${CHAT_LIMITS__WRITE_BURST:-1000}"
export CHAT_STOMP__RESUME_LIMIT="${CHAT_STOMP__RESUME_LIMIT:-20}"
# It floods a room whose reader stopped reading until a post is refused `overloaded` (no
# room write limit gets there first): an outbound queue is behind past 32 KiB (two large messages; the chat's small frames never
# get there), a refusal comes after 300 ms, and neither a write timeout nor the
# slow-consumer rule closes the paused reader within the check.
export CHAT_LIMITS__ROOM_WRITE_PER_SECOND="${CHAT_LIMITS__ROOM_WRITE_PER_SECOND:-0}"
export CHAT_STOMP__OUTBOUND_QUEUE_BYTES="${CHAT_STOMP__OUTBOUND_QUEUE_BYTES:-65536}"
export CHAT_STOMP__OVERLOAD_WAIT_MS="${CHAT_STOMP__OVERLOAD_WAIT_MS:-300}"
export CHAT_STOMP__WRITE_TIMEOUT_MS="${CHAT_STOMP__WRITE_TIMEOUT_MS:-30000}"
export CHAT_STOMP__SLOW_CONSUMER_MS="${CHAT_STOMP__SLOW_CONSUMER_MS:-30000}"
# shellcheck source=../start-server.sh
. "$here/../start-server.sh"

status=0
CHAT_URL="http://127.0.0.1:$port" SCREENSHOT="$screenshot" node web-chat.mjs || status=$?

server_log_on_failure "$status"
exit "$status"

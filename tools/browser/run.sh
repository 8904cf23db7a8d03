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
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi

# A free port: bind to port 0, read what the kernel chose, release it.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

log="$(mktemp "${TMPDIR:-/tmp}/chat-server-browser.XXXXXX.log")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The development secret is what turns development tokens on: make sure no
# configuration of the caller's environment replaces it.
env -u CHAT_JWT__SECRET -u CHAT_CONFIG \
  CHAT_HTTP__HOST=127.0.0.1 CHAT_HTTP__PORT="$port" RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1 \
  "$server" >"$log" 2>&1 &
server_pid=$!

# Wait (at most 10 s) until the port accepts connections.
ready=""
for _ in $(seq 1 100); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    break
  fi
  if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$port" 2>/dev/null; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "$0: chat-server did not start listening on 127.0.0.1:$port; its log:" >&2
  cat "$log" >&2
  exit 1
fi

status=0
CHAT_URL="http://127.0.0.1:$port" SCREENSHOT="$screenshot" node web-chat.mjs || status=$?

if [ "$status" -ne 0 ]; then
  echo "--- chat-server log ---" >&2
  cat "$log" >&2
fi
exit "$status"

# Sourced by the Node checks (tools/interop, tools/browser): starts the chat-server binary
# "$server" in embedded mode on a free loopback port and stops it when the script exits.
#
#   . "$here/../start-server.sh"   # with $server set; extra CHAT_* settings in the caller's env
#
# Sets `port` and `log`; `server_log_on_failure STATUS` prints the server's log when STATUS is
# not 0. Exits 1 with the log when the server does not answer /readyz within 10 s.

# A free port: bind to port 0, read what the kernel chose, release it.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

log="$(mktemp "${TMPDIR:-/tmp}/chat-server-check.XXXXXX.log")"
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

CHAT_HTTP__HOST=127.0.0.1 CHAT_HTTP__PORT="$port" RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1 \
  "$server" >"$log" 2>&1 &
server_pid=$!

# Wait (at most 10 s) until /readyz answers: 200 (ready or degraded) or 503 (not ready) both
# mean the server serves requests.
readyz_answers='
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:%s/readyz" % sys.argv[1], timeout=1)
except urllib.error.HTTPError as error:
    sys.exit(0 if error.code == 503 else 1)
'
ready=""
for _ in $(seq 1 100); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    break
  fi
  if python3 -c "$readyz_answers" "$port" 2>/dev/null; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "$0: chat-server did not answer /readyz on 127.0.0.1:$port; its log:" >&2
  cat "$log" >&2
  exit 1
fi

server_log_on_failure() {
  if [ "$1" -ne 0 ]; then
    echo "--- chat-server log ---" >&2
    cat "$log" >&2
  fi
}

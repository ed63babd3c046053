#!/usr/bin/env bash
# Runs a real scim2-server on 127.0.0.1 with tenants created on first use, each at
# http://127.0.0.1:PORT/<tenant>/v2, accepting the bearer token TOKEN.
#
#   scim-server.sh serve PORT TOKEN   print "ready http://127.0.0.1:PORT" once it answers, then
#                                     run until standard input closes or a signal arrives.
#                                     Its request log goes to $TMPDIR/xtsync-scim2-server-PORT.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "${1:-}" = serve ] && [ -n "${2:-}" ] && [ -n "${3:-}" ] || { echo "usage: $0 serve PORT TOKEN" >&2; exit 2; }
port=$2; token=$3
server=$("$here/install-scim-server.sh")

log="${TMPDIR:-/tmp}/xtsync-scim2-server-$port.log"
"$server" --hostname 127.0.0.1 --port "$port" --dynamic-tenants --bearer-token "$token" >"$log" 2>&1 &
pid=$!
holder=""
trap 'kill $pid $holder 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
trap 'exit 0' INT TERM

deadline=$((SECONDS + 30))
until curl -sf -o /dev/null "http://127.0.0.1:$port/probe/v2/ServiceProviderConfig"; do
  kill -0 "$pid" 2>/dev/null || { echo "scim2-server exited; see $log" >&2; tail -n 20 "$log" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { echo "scim2-server not answering after 30 s" >&2; exit 1; }
  sleep 0.2
done
# Someone else may hold the port and have answered: then ours has exited.
kill -0 "$pid" 2>/dev/null || { echo "scim2-server could not listen on port $port (in use?); see $log" >&2; exit 1; }
echo "ready http://127.0.0.1:$port"
# `wait` (unlike a foreground command) lets the TERM/INT trap run at once.
cat <&0 >/dev/null &
holder=$!
wait "$holder" || true

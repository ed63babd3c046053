#!/usr/bin/env bash
# Runs a real, throw-away Kubernetes control plane on 127.0.0.1: Debian's etcd and a
# kube-apiserver 1.20 (see install-control-plane.sh), on free ports, with a static admin token.
#
#   control-plane.sh serve DIR   start, write DIR/kubeconfig, print "ready DIR/kubeconfig",
#                                then run until standard input closes or a signal arrives.
#
# Tying the lifetime to standard input means a test process that dies, however it dies,
# takes its control plane with it: nothing is left listening on the machine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}; dir=${2:-}
[ "$cmd" = serve ] && [ -n "$dir" ] || { echo "usage: $0 serve DIR" >&2; exit 2; }

bin=$("$here/install-control-plane.sh")
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)

pids=()
holder=""
cleanup() {
  [ -z "$holder" ] || kill "$holder" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir/etcd"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

"$bin/etcd" --data-dir "$dir/etcd" --name xtsync-test \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "xtsync-test=http://127.0.0.1:$peer_port" \
  --unsafe-no-fsync=true >"$dir/etcd.log" 2>&1 &
pids+=($!)

token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
echo "$token,admin,admin,system:masters" > "$dir/tokens.csv"
[ -f "$dir/sa.key" ] || openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null

# The apiserver's own record of every SyncConfiguration status write (DIR/audit.log, one JSON
# event per line), so that a test can count the writes one object gets. RequestReceived is
# written before the request is served (the log backend blocks), so a write whose effect a
# client has seen is always in the file; ResponseComplete adds the patch body.
cat > "$dir/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [ResponseStarted, Panic]
rules:
- level: Request
  verbs: [create, update, patch]
  resources:
  - group: xtsync.io
    resources: [syncconfigurations/status]
- level: None
POLICY

"$bin/kube-apiserver" \
  --bind-address=127.0.0.1 --secure-port="$api_port" --insecure-port=0 \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --cert-dir="$dir/certs" \
  --token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC \
  --service-account-key-file="$dir/sa.key" --service-account-signing-key-file="$dir/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-cluster-ip-range=10.0.0.0/24 \
  --audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$dir/audit.log" \
  --disable-admission-plugins=ServiceAccount >"$dir/apiserver.log" 2>&1 &
pids+=($!)

cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: xtsync-test
  cluster:
    server: https://127.0.0.1:$api_port
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: $token
contexts:
- name: xtsync-test
  context: { cluster: xtsync-test, user: admin, namespace: default }
current-context: xtsync-test
KC

deadline=$((SECONDS + 60))
until curl -sfk -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; do
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "control plane exited; see $dir/*.log" >&2; tail -n 20 "$dir/apiserver.log" >&2; exit 1; }
  done
  [ $SECONDS -lt $deadline ] || { echo "kube-apiserver not ready after 60 s; see $dir/apiserver.log" >&2; exit 1; }
  sleep 0.2
done

echo "ready $dir/kubeconfig"
# Block until whoever started us closes our standard input (or dies).
# `wait` (unlike a foreground command) lets the TERM/INT trap run at once.
cat <&0 >/dev/null &
holder=$!
wait "$holder" || true

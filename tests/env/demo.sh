#!/usr/bin/env bash
# `make demo`: a real control plane and two real SCIM tenants on this machine, the quickstart
# example applied, the operator running, and what it reports. Everything stops at the end
# (DEMO_KEEP=1 keeps it running until Ctrl-C, so you can explore with kubectl).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash tests/env/setup.sh
cargo build --quiet --bin xtsync

work=$(mktemp -d "${TMPDIR:-/tmp}/xtsync-demo.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Helpers run until their stdin closes: give each a pipe we hold open.
mkfifo "$work/hold"
exec 3<>"$work/hold"
bash tests/env/control-plane.sh serve "$work/cluster" <&3 >"$work/cp.out" &
pids+=($!)
bash tests/env/scim-server.sh serve 18080 demo-token <&3 >"$work/scim.out" &
pids+=($!)
for f in cp.out scim.out; do
  for _ in $(seq 1 600); do grep -q '^ready' "$work/$f" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$work/$f" || { echo "demo: $f never became ready" >&2; exit 1; }
done
export KUBECONFIG="$work/cluster/kubeconfig"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
scim="http://127.0.0.1:18080"
add_user() { # tenant userName department [userType]
  curl -sf -o /dev/null -X POST "$scim/$1/v2/Users" -H 'Authorization: Bearer demo-token' \
    -H 'Content-Type: application/scim+json' -d "{
      \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\", \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],
      \"userName\": \"$2\", \"displayName\": \"${2%%@*}\", \"active\": true, \"userType\": \"${4:-Member}\",
      \"emails\": [{\"type\": \"work\", \"value\": \"$2\", \"primary\": true}],
      \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": {\"department\": \"$3\"}}"
}
list_users() { # tenant
  curl -sf "$scim/$1/v2/Users?count=100" -H 'Authorization: Bearer demo-token' | python3 -c '
import json, sys
for u in json.load(sys.stdin)["Resources"]:
    print("  %-22s active=%-5s userType=%-7s externalId=%s" % (u["userName"], u.get("active"), u.get("userType", ""), u.get("externalId", "")))'
}

echo "# Contoso's directory: two Sales members, one Ops member, one Sales guest"
add_user contoso alice@contoso.com Sales
add_user contoso bob@contoso.com Sales
add_user contoso carol@contoso.com Ops
add_user contoso dave@partner.com Sales Guest
list_users contoso

step kubectl apply -f crds/
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
step kubectl apply -f examples/quickstart/

./target/debug/xtsync run --http-addr 127.0.0.1:18081 >"$work/operator.log" 2>&1 &
pids+=($!)
echo "(operator running; log: $work/operator.log)"

step kubectl wait --for=condition=Ready --timeout=60s syncconfig/contoso-to-fabrikam
kubectl wait --for=condition=Synced --timeout=60s syncconfig/contoso-to-fabrikam >/dev/null
step kubectl get xtsync
echo; echo "# Fabrikam's directory now: the in-scope internal users (department Sales), anchored to Contoso; never the guest"
list_users fabrikam
step kubectl get syncconfig contoso-to-fabrikam -o jsonpath='{.status.lastCycle}{"\n"}'
echo; echo "# The operator's metrics (http://127.0.0.1:18081/metrics):"
curl -sf http://127.0.0.1:18081/metrics | grep -E '^xtsync_(cycles_total|users_total|leader|quarantined)' || true

echo; echo "# A configuration the gate refuses, and why:"
bad=$(cat <<'YAML'
apiVersion: xtsync.io/v1alpha1
kind: SyncConfiguration
metadata: { name: fabrikam-to-contoso }
spec:
  sourceRef: { name: fabrikam }
  targetRef: { name: contoso }
  scope:
    filters:
      - clauses: [ { attribute: department, operator: LIKE, value: Sales } ]
YAML
)
printf '%s\n' "$bad"
printf '%s\n' "$bad" | kubectl apply -f - >/dev/null
kubectl wait --for=condition=Ready=false --timeout=30s syncconfig/fabrikam-to-contoso >/dev/null
step kubectl get syncconfig -o wide
step kubectl get syncconfig fabrikam-to-contoso -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}{"\n"}'

echo; echo "# A Secret is sent only where its annotation xtsync.io/credentials-for allows. One without it,"
echo "# as Secrets had before that annotation existed:"
unallowed=$(cat <<'YAML'
apiVersion: v1
kind: Secret
metadata: { name: northwind-scim, labels: { xtsync.io/credentials: "true" } }
stringData: { token: demo-token }
---
apiVersion: xtsync.io/v1alpha1
kind: Tenant
metadata: { name: northwind }
spec:
  tenantId: 3f0c7d5e-1b2a-4c3d-8e9f-a0b1c2d3e4f5
  directory:
    scim:
      url: http://127.0.0.1:18080/northwind/v2
      auth: { bearerTokenSecretRef: { name: northwind-scim, key: token } }
YAML
)
printf '%s\n' "$unallowed"
printf '%s\n' "$unallowed" | kubectl apply -f - >/dev/null
kubectl wait --for=condition=Ready=false --timeout=30s tenant/northwind >/dev/null
ready_message() { kubectl get tenant northwind -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'; }
step kubectl get tenant northwind -o wide
echo; echo "# Its message (nothing was sent):"; ready_message; echo
echo; echo "# The message ends with the command that allows this Tenant; run it:"
read -r -a allow <<<"$(ready_message | sed -n 's/.*allow it with: //p')"
step "${allow[@]}"
step kubectl wait --for=condition=Ready --timeout=30s tenant/northwind

if [ "${DEMO_KEEP:-}" = 1 ]; then
  echo; echo "Still running. In another shell: export KUBECONFIG=$KUBECONFIG; kubectl get xtsync. Ctrl-C stops."
  wait
fi

#!/usr/bin/env bash
# The time and memory `xtsync plan` needs for one configuration of USERS source users (default
# 10,000) against a real scim2-server, all of them to be created: prints wall time and peak RSS
# of the plan process. Run after `make setup` and `cargo build --release --bin xtsync`:
#
#   bash benches/plan_10k.sh [USERS]
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-10000}"
target="${CARGO_TARGET_DIR:-target}"
xtsync="$target/release/xtsync"
[ -x "$xtsync" ] || { echo "build it first: cargo build --release --bin xtsync" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=bench-token
work=$(mktemp -d)
mkfifo "$work/hold"
bash tests/env/scim-server.sh serve "$port" "$token" <"$work/hold" >"$work/ready" &
exec 3>"$work/hold"
until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.2; done
base="http://127.0.0.1:$port"

# The source's users, through Bulk (200 per request).
python3 - "$base/contoso/v2/Bulk" "$token" "$users" <<'PY'
import json, sys, urllib.request
url, token, users = sys.argv[1], sys.argv[2], int(sys.argv[3])
for start in range(0, users, 200):
    ops = [{"method": "POST", "path": "/Users", "bulkId": str(i),
            "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"u{i:06}@contoso.com",
                     "displayName": f"User {i}", "emails": [{"value": f"u{i:06}@contoso.com", "type": "work", "primary": True}]}}
           for i in range(start, min(start + 200, users))]
    body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
    urllib.request.urlopen(request).read()
PY

cat >"$work/manifests.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: { name: scim-token, labels: { xtsync.io/credentials: "true" }, annotations: { xtsync.io/credentials-for: "$base/contoso/v2,$base/fabrikam/v2" } }
stringData: { token: $token }
---
apiVersion: xtsync.io/v1alpha1
kind: Tenant
metadata: { name: contoso }
spec:
  tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
  directory: { scim: { url: "$base/contoso/v2", auth: { bearerTokenSecretRef: { name: scim-token, key: token } } } }
---
apiVersion: xtsync.io/v1alpha1
kind: Tenant
metadata: { name: fabrikam }
spec:
  tenantId: 9188040d-6c67-4c5b-b112-36a304b66dad
  directory: { scim: { url: "$base/fabrikam/v2", auth: { bearerTokenSecretRef: { name: scim-token, key: token } } } }
---
apiVersion: xtsync.io/v1alpha1
kind: CrossTenantAccessPolicy
metadata: { name: fabrikam }
spec:
  tenantRef: { name: fabrikam }
  partners:
    - tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
      inbound: { allowUsersSync: true, automaticallyRedeemInvitations: true }
---
apiVersion: xtsync.io/v1alpha1
kind: CrossTenantAccessPolicy
metadata: { name: contoso }
spec:
  tenantRef: { name: contoso }
  default: { outbound: { automaticallyRedeemInvitations: true } }
---
apiVersion: xtsync.io/v1alpha1
kind: SyncConfiguration
metadata: { name: contoso-to-fabrikam }
spec:
  sourceRef: { name: contoso }
  targetRef: { name: fabrikam }
  scope: { mode: AllUsers }
YAML

/usr/bin/time -f "%e %M" -o "$work/time" "$xtsync" plan -f "$work/manifests.yaml" -o json >"$work/plan.json" || true
read -r seconds kib <"$work/time"
python3 - "$work/plan.json" "$users" "$seconds" "$kib" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
users, seconds, kib = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
summary = plan["configurations"][0]["summary"]
assert summary and summary["created"] == users, plan["configurations"][0]
print(f"xtsync plan, {users} users to create: {seconds:.2f} s wall, peak RSS {kib / 1024:.0f} MiB; summary {summary}")
PY
exec 3>&-
rm -rf "$work"

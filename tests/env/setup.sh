#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian/Ubuntu machine, idempotently:
# kubectl, curl, openssl, python3-venv, promtool, the real control plane (built once, cached under
# ~/.cache/xtsync) and scim2-server (in .venv). Safe to run again; fast when all is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v make >/dev/null 2>&1 || missing+=(make)
# buildah builds and runs the operator image (image/build.sh, the image test).
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
# promtool checks the chart's alert and dashboard expressions (Debian's prometheus package).
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq >&2 || echo "setup: apt-get update reported errors (continuing)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

"$here/install-control-plane.sh" >/dev/null
"$here/install-scim-server.sh" >/dev/null
echo "setup: kubectl $(kubectl version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])' 2>/dev/null || echo '?'), control plane and scim2-server ready" >&2

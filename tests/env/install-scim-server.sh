#!/usr/bin/env bash
# Installs the Python tools of the test environment into a virtualenv, once: the real SCIM 2.0
# server the tests and the demo use (PyPI scim2-server; README, "Try it, test it"), and Helm's
# Go SDK for Python (PyPI helm-python-sdk) with PyYAML for the chart tests. Prints the path of
# the `scim2-server` executable; the venv's python is beside it.
set -euo pipefail
venv="${XTSYNC_VENV:-$HOME/.cache/xtsync/venv}"
packages=("scim2-server==0.8.3" "helm-python-sdk==0.2.2" "PyYAML==6.0.3")
installed() {
  "$venv/bin/python" - "${packages[@]}" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(any(m.version(p.split("==")[0]) != p.split("==")[1] for p in sys.argv[1:]))
PY
}
if ! installed; then
  python3 -m venv "$venv" >&2 || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    python3 -m venv "$venv" >&2
  }
  "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}" >&2
fi
echo "$venv/bin/scim2-server"

#!/usr/bin/env bash
# Installs the real SCIM 2.0 server the tests and the demo use (PyPI scim2-server, DESIGN.md §6)
# into a virtualenv, once. Prints the path of the `scim2-server` executable.
set -euo pipefail
venv="${XTSYNC_VENV:-$HOME/.cache/xtsync/venv}"
version=0.8.3
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('scim2-server') != '$version')" 2>/dev/null; then
  python3 -m venv "$venv" >&2 || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    python3 -m venv "$venv" >&2
  }
  "$venv/bin/pip" install -q --disable-pip-version-check "scim2-server==$version" >&2
fi
echo "$venv/bin/scim2-server"

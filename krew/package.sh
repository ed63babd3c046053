#!/usr/bin/env bash
# The kubectl plugin as Krew installs it: an archive holding the `xtsync` binary, and the
# manifest krew/xtsync.yaml filled in for it (version, address, sha256).
#
#   krew/package.sh [OUT_DIR]   default: ${CARGO_TARGET_DIR:-target}/krew
#
# XTSYNC_PLUGIN_BINARY   the binary to package (default: the release build)
# XTSYNC_PLUGIN_URI_BASE where the archive will be downloaded from, for a Krew index
#                        (default: the archive's own file:// address, for
#                        `kubectl krew install --manifest=… --archive=…`)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
out=${1:-$target/krew}
binary=${XTSYNC_PLUGIN_BINARY:-$target/release/xtsync}
[ -x "$binary" ] || { echo "no binary at $binary: run 'cargo build --release --bin xtsync' first" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
archive="xtsync-plugin-v$version-linux-$arch.tar.gz"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
install -m 0755 "$binary" "$staging/xtsync"
tar -C "$staging" -czf "$out/$archive" xtsync
sha=$(sha256sum "$out/$archive" | cut -d' ' -f1)
uri=${XTSYNC_PLUGIN_URI_BASE:-file://$out}/$archive

sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@URI@|$uri|" -e "s|@SHA256@|$sha|" \
  "$root/krew/xtsync.yaml" > "$out/xtsync.yaml"
echo "$out/xtsync.yaml"
echo "$out/$archive"

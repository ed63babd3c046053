#!/usr/bin/env bash
# Installs a real Kubernetes control plane for the tests: kube-apiserver 1.20.2 built from
# Debian bookworm's `kubernetes` source package (README, "Try it, test it") and Debian's etcd 3.4.
#
# The apiserver is built once and cached under $XTSYNC_CACHE (default ~/.cache/xtsync/bin);
# later runs take a few milliseconds. If KUBEBUILDER_ASSETS names a folder with envtest's
# kube-apiserver and etcd, those are used instead and nothing is built.
#
# Prints nothing on success but the folder that holds `kube-apiserver` and `etcd`.
set -euo pipefail

cache="${XTSYNC_CACHE:-$HOME/.cache/xtsync/bin}"
log() { echo "install-control-plane: $*" >&2; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    # Third-party sources on build machines may be unreachable; Debian's own are what we need.
    apt-get update -qq >&2 || log "apt-get update reported errors (continuing with what it fetched)"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

mkdir -p "$cache"

# etcd: Debian's etcd-server (3.4). A Go binary, so a copy in the cache is self-contained.
if [ ! -x "$cache/etcd" ]; then
  [ -x /usr/bin/etcd ] || apt_install etcd-server
  cp /usr/bin/etcd "$cache/etcd"
fi

if [ -x "$cache/kube-apiserver" ]; then
  echo "$cache"
  exit 0
fi

log "building kube-apiserver 1.20.2 from Debian's source package (once; about 5 minutes)"
sources=/etc/apt/sources.list.d/debian.sources
src_list=/etc/apt/sources.list.d/xtsync-deb-src.sources
if [ ! -f "$src_list" ]; then
  sed 's/^Types: deb$/Types: deb-src/' "$sources" > "$src_list"
  apt_updated=""
fi
apt_install golang-go rsync jq golang-github-modern-go-reflect2-dev dpkg-dev openssl curl

work=$(mktemp -d "${TMPDIR:-/tmp}/xtsync-apiserver.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only kubernetes/bookworm >&2
dpkg-source --no-check -x kubernetes_*.dsc src >&2
root="$work/src"

# The vendored reflect2 1.0.1 makes the apiserver SIGSEGV on the first custom resource write
# when built with Go >= 1.18. Debian's 1.0.2 fixes it.
rm -rf "$root/vendor/github.com/modern-go/reflect2"
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$root/vendor/github.com/modern-go/reflect2"

mkdir -p "$work/gopath/src/k8s.io"
ln -s "$root" "$work/gopath/src/k8s.io/kubernetes"
cd "$work/gopath/src/k8s.io/kubernetes"
# GOPATH mode with the vendored tree: no module download is possible or wanted.
GOPATH="$work/gopath" GO111MODULE=off CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor \
  make WHAT=cmd/kube-apiserver >&2
built=$(find "$root/_output" -type f -name kube-apiserver -perm -u+x | head -n1)
[ -n "$built" ] || { log "build produced no kube-apiserver"; exit 1; }
cp "$built" "$cache/kube-apiserver.tmp"
mv "$cache/kube-apiserver.tmp" "$cache/kube-apiserver"
log "cached $cache/kube-apiserver"
echo "$cache"

#!/usr/bin/env bash
# Builds the xtsync OCI image with Debian's buildah (no daemon, no registry to pull from:
# the image is FROM scratch, its root file system staged here) and exports it as an OCI archive.
#
#   image/build.sh                 # release binary → $CARGO_TARGET_DIR/xtsync-image.tar
#   XTSYNC_IMAGE_PROFILE=image …   # the profile to build with (Cargo.toml [profile.image])
#
# Prints the archive's path, then "size <bytes>" of the unpacked files, on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

profile=${XTSYNC_IMAGE_PROFILE:-release}
target=${CARGO_TARGET_DIR:-$root/target}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
tag="localhost/xtsync:$version"
archive="$target/xtsync-image.tar"
storage=(--storage-driver vfs)

if ! command -v buildah >/dev/null 2>&1; then
  echo "image: installing buildah" >&2
  apt-get update -qq >&2 || echo "image: apt-get update reported errors (continuing)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah >&2
fi

cargo build --locked --profile "$profile" --bin xtsync >&2
case "$profile" in
  dev) binary="$target/debug/xtsync" ;;
  *) binary="$target/$profile/xtsync" ;;
esac

# The root file system: the binary, the libraries the dynamic loader resolves for it (ldd
# prints their paths as this machine has them), CA certificates, passwd and group.
stage="$target/image-context"
rm -rf "$stage"
mkdir -p "$stage/rootfs/usr/local/bin" "$stage/rootfs/etc/ssl/certs" "$stage/rootfs/tmp"
chmod 1777 "$stage/rootfs/tmp"
cp image/Containerfile "$stage/"
install -m 0755 "$binary" "$stage/rootfs/usr/local/bin/xtsync"
strip --strip-unneeded "$stage/rootfs/usr/local/bin/xtsync" 2>/dev/null || true
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$stage/rootfs$(dirname "$lib")"
  cp -L "$lib" "$stage/rootfs$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$stage/rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
  > "$stage/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$stage/rootfs/etc/group"
mkdir -p "$stage/rootfs/home/nonroot"
chown 65532:65532 "$stage/rootfs/home/nonroot"

buildah "${storage[@]}" bud --quiet --isolation chroot --layers -f "$stage/Containerfile" -t "$tag" "$stage" >&2
rm -f "$archive"
buildah "${storage[@]}" push --quiet "$tag" "oci-archive:$archive:$tag" >&2
echo "$archive"
echo "size $(du -sb "$stage/rootfs" | cut -f1)"

#!/usr/bin/env bash
# Build an iperf3 image from the host's Debian iperf3 package (the binary, the libraries ldd names, busybox-static
# for a shell) and push it to a registry, for bench/network.mjs's container → host throughput.
#
#   bench/make-iperf3-image.sh <host:port>        prints the pushed ref (<host:port>/iperf3:latest)
#
# Needs iperf3, busybox-static, umoci, skopeo (apt-get install iperf3; the rest: scripts/install-deps.sh).
set -euo pipefail
die() { echo "make-iperf3-image: $*" >&2; exit 1; }
DEST="${1:-}"
[[ -n "$DEST" ]] || die "usage: $0 <host:port>"
for b in iperf3 busybox umoci skopeo tar ldd; do command -v "$b" >/dev/null 2>&1 || die "missing $b"; done
REF="$DEST/iperf3:latest"
if skopeo inspect --raw --tls-verify=false --no-creds "docker://$REF" >/dev/null 2>&1; then echo "$REF"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,usr/bin,etc,tmp,proc,sys,dev}
cp "$(command -v busybox)" "$root/bin/busybox"
for a in sh cat ls; do ln -s busybox "$root/bin/$a"; done
cp "$(command -v iperf3)" "$root/usr/bin/iperf3"
# the dynamic loader and every library at the path ldd resolves it to
for lib in $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
chmod 1777 "$root/tmp"
tar --sort=name --mtime=@1700000000 --numeric-owner --owner=0 --group=0 -C "$root" -cf "$work/layer.tar" .
layout="$work/oci"
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
umoci --log error init --layout "$layout"
umoci --log error new --image "$layout:iperf3"
umoci --log error raw add-layer --image "$layout:iperf3" --history.created_by 'iperf3 from the host package' "$work/layer.tar"
umoci --log error config --image "$layout:iperf3" --config.entrypoint iperf3 --config.env PATH=/usr/bin:/bin --architecture "$arch" --os linux
skopeo copy -q --dest-tls-verify=false "oci:$layout:iperf3" "docker://$REF" >&2
echo "$REF"

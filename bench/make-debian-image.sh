#!/usr/bin/env bash
# Build a minimal Debian bookworm image (debootstrap --variant=minbase) and push it as a 2-layer image
# (layer 1: /usr, layer 2: everything else) to a registry — realistic input for pull benchmarks.
#
#   bench/make-debian-image.sh <host:port> [repo:tag]      (default repo:tag: debian:bookworm-minbase)
#
# Options (environment):
#   TSDOCK_BENCH_CACHE   cache dir for the rootfs and OCI layout (default ${XDG_CACHE_HOME:-$HOME/.cache}/tsdock-bench)
#   TSDOCK_BENCH_MIRROR  Debian mirror URL (default: the bookworm mirror configured in /etc/apt/sources.list(.d))
#   TSDOCK_BENCH_FORMAT  v2s2 (default) or oci
#   TSDOCK_BENCH_ZSTD=1  push zstd layers (implies oci)
#   TSDOCK_BENCH_CREDS   user:password for the destination registry
#   TSDOCK_BENCH_TLS_VERIFY=1  verify TLS (default: off, for plain-http/self-signed test registries)
# Needs root (debootstrap), debootstrap, umoci, skopeo. The rootfs is built once and reused.
set -euo pipefail

die() { echo "make-debian-image: $*" >&2; exit 1; }

DEST_HOST="${1:-}"
REPO_TAG="${2:-debian:bookworm-minbase}"
[[ -n "$DEST_HOST" ]] || die "usage: $0 <host:port> [repo:tag]"
[[ "$REPO_TAG" == *:* ]] || REPO_TAG="$REPO_TAG:latest"

for b in debootstrap umoci skopeo tar; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$b" >/dev/null 2>&1 || die "missing $b (apt-get install debootstrap umoci skopeo)"
done
export PATH="$PATH:/usr/sbin:/sbin"

CACHE="${TSDOCK_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tsdock-bench}/debian-bookworm-minbase"
ROOTFS="$CACHE/rootfs"
LAYOUT="$CACHE/oci"
FORMAT="${TSDOCK_BENCH_FORMAT:-v2s2}"
[[ "${TSDOCK_BENCH_ZSTD:-0}" == 1 ]] && FORMAT=oci

find_mirror() {
  local f uri
  # deb822 .sources files
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    # first URIs: of a stanza whose Suites mention bookworm (not -security/-updates) and that is Debian
    uri=$(awk '
      /^[[:space:]]*$/ { if (u != "" && s ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) { print u; found=1; exit } u=""; s=""; next }
      /^URIs:/ { u=$2 } /^Suites:/ { $1=""; s=$0 }
      END { if (!found && u != "" && s ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) print u }' "$f")
    if [[ -n "$uri" && "$uri" == *debian* && "$uri" != *security* ]]; then echo "$uri"; return; fi
  done
  # one-line format
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    uri=$(awk '$1=="deb" && $3=="bookworm" { for (i=2;i<=NF;i++) if ($i ~ /^https?:/) { print $i; exit } }' "$f")
    if [[ -n "$uri" ]]; then echo "$uri"; return; fi
  done
  die "no Debian mirror found in /etc/apt/sources.list(.d); set TSDOCK_BENCH_MIRROR"
}

build_rootfs() {
  [[ -f "$ROOTFS/.complete" ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "debootstrap needs root (or put a prepared rootfs in $ROOTFS with a .complete file)"
  local mirror="${TSDOCK_BENCH_MIRROR:-$(find_mirror)}"
  echo "make-debian-image: debootstrap bookworm minbase from $mirror into $ROOTFS" >&2
  rm -rf "$ROOTFS"
  mkdir -p "$CACHE"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  # trim caches that real images drop too
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log
  touch "$ROOTFS/.complete"
}

build_layout() {
  [[ -f "$LAYOUT/.complete" ]] && return 0
  local work="$CACHE/work"
  rm -rf "$work" "$LAYOUT"
  mkdir -p "$work"
  local common=(--sort=name --numeric-owner --xattrs --xattrs-include='security.capability' --format=posix
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --exclude=./.complete)
  tar "${common[@]}" -C "$ROOTFS" -cf "$work/usr.tar" ./usr
  tar "${common[@]}" --exclude=./usr -C "$ROOTFS" -cf "$work/rest.tar" .
  local arch
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  umoci --log error init --layout "$LAYOUT"
  umoci --log error new --image "$LAYOUT:debian"
  umoci --log error raw add-layer --image "$LAYOUT:debian" --history.created_by 'debootstrap minbase: /usr' "$work/usr.tar"
  umoci --log error raw add-layer --image "$LAYOUT:debian" --history.created_by 'debootstrap minbase: rest' "$work/rest.tar"
  umoci --log error config --image "$LAYOUT:debian" --config.cmd bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --architecture "$arch" --os linux
  umoci --log error gc --layout "$LAYOUT"
  if [[ "${TSDOCK_BENCH_ZSTD:-0}" == 1 ]]; then
    rm -rf "$LAYOUT-zstd"
    skopeo copy --quiet --dest-compress-format zstd "oci:$LAYOUT:debian" "oci:$LAYOUT-zstd:debian"
  fi
  rm -rf "$work"
  touch "$LAYOUT/.complete"
}

build_rootfs
build_layout
[[ "${TSDOCK_BENCH_ZSTD:-0}" == 1 && ! -d "$LAYOUT-zstd" ]] &&
  skopeo copy --quiet --dest-compress-format zstd "oci:$LAYOUT:debian" "oci:$LAYOUT-zstd:debian"

SRC="oci:$LAYOUT:debian"
[[ "${TSDOCK_BENCH_ZSTD:-0}" == 1 ]] && SRC="oci:$LAYOUT-zstd:debian"
args=(copy --quiet --format "$FORMAT" --dest-tls-verify="$([[ "${TSDOCK_BENCH_TLS_VERIFY:-0}" == 1 ]] && echo true || echo false)")
if [[ -n "${TSDOCK_BENCH_CREDS:-}" ]]; then args+=(--dest-creds "$TSDOCK_BENCH_CREDS"); else args+=(--dest-no-creds); fi
[[ "$FORMAT" == oci ]] && args+=(--preserve-digests)
skopeo "${args[@]}" "$SRC" "docker://$DEST_HOST/$REPO_TAG"
echo "$DEST_HOST/$REPO_TAG"

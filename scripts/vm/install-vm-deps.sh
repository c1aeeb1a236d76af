#!/usr/bin/env bash
# Install what scripts/vm/run-in-vm.sh needs on a Debian 12 (bookworm) host, as root:
#   - QEMU (qemu-system-x86, no recommends) plus cpio to build the initramfs,
#   - a Debian kernel image, downloaded with `apt-get download` and unpacked with
#     `dpkg-deb -x` into a cache dir. It is NOT installed into /boot and does not touch
#     the host's bootloader or module tree.
#
# Idempotent: nothing is downloaded when it is already there, and `apt-get update` only
# runs when a package is missing or the kernel package cannot be found/downloaded.
# Only Debian mirrors are needed (no other network access).
#
#   sudo scripts/vm/install-vm-deps.sh            # install / refresh
#   scripts/vm/install-vm-deps.sh --check         # report only; exit 1 if something is missing
#
# Env: TSDOCK_VM_CACHE (default /var/cache/tsdock-vm) — where the kernel is unpacked;
#      run-in-vm.sh uses the same default.
set -euo pipefail

CACHE=${TSDOCK_VM_CACHE:-/var/cache/tsdock-vm}
KDIR="$CACHE/kernel"
# Meta package whose dependency names the concrete, current kernel ABI (linux-image-6.1.0-NN-amd64).
KMETA=linux-image-amd64

PACKAGES=(qemu-system-x86 cpio gzip xz-utils busybox-static)
declare -A PROBE=(
  [qemu-system-x86]=qemu-system-x86_64
  [cpio]=cpio
  [gzip]=gzip
  [xz-utils]=xz
  [busybox-static]=busybox
)

log() { echo "install-vm-deps: $*"; }
die() { echo "install-vm-deps: error: $*" >&2; exit 1; }

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

is_installed() {
  local pkg=$1
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" == installed ]] || return 1
  PATH="$PATH:/usr/sbin:/sbin" command -v "${PROBE[$pkg]}" >/dev/null 2>&1
}

# Kernel already unpacked? ($KDIR/current -> linux-image-..._<version>, with a .complete marker.)
kernel_present() {
  [[ -e "$KDIR/current/.complete" ]] && compgen -G "$KDIR/current/boot/vmlinuz-*" >/dev/null
}

updated=0
apt_update_once() {
  ((updated)) && return 0
  log "apt-get update"
  apt-get update -qq
  updated=1
}

# Name of the concrete kernel package the meta package depends on, e.g. linux-image-6.1.0-56-amd64.
resolve_kernel_pkg() {
  apt-cache depends "$KMETA" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

missing=()
for p in "${PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done

if ((check_only)); then
  rc=0
  if ((${#missing[@]})); then log "missing packages: ${missing[*]}"; rc=1; else log "packages present: ${PACKAGES[*]}"; fi
  if kernel_present; then log "kernel: $(readlink "$KDIR/current")"; else log "kernel: missing (in $KDIR)"; rc=1; fi
  exit $rc
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get install, and the cache lives in $CACHE)"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found; Debian/Ubuntu only"
export DEBIAN_FRONTEND=noninteractive

if ((${#missing[@]})); then
  apt_update_once
  log "installing: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "packages present: ${PACKAGES[*]}"
fi

# --- kernel ---------------------------------------------------------------------------------
# The package ships no modules.dep (its postinst runs depmod). Generate it in the unpacked tree
# with busybox's depmod (the host may have no kmod): run-in-vm.sh reads it to put the 9p/virtio
# modules into its initramfs in dependency order, and modprobe uses it inside the VM.
run_depmod() {
  local root=$1 kv
  for kv in "$root"/lib/modules/*; do
    log "depmod $(basename "$kv")"
    busybox depmod -b "$root" "$(basename "$kv")"
  done
}

kpkg=$(resolve_kernel_pkg)
if [[ -z $kpkg ]]; then
  # No package lists yet (fresh container image): fetch them once and retry.
  apt_update_once
  kpkg=$(resolve_kernel_pkg)
fi
[[ -n $kpkg ]] || die "cannot resolve the kernel package that $KMETA depends on"
kver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
[[ -n $kver && $kver != "(none)" ]] || die "no installable version of $kpkg"
target="$KDIR/${kpkg}_${kver}"

if [[ -e "$target/.complete" ]]; then
  log "kernel present: $target"
  compgen -G "$target/lib/modules/*/modules.dep" >/dev/null || run_depmod "$target"
else
  mkdir -p "$KDIR"
  tmp=$(mktemp -d "$KDIR/.dl.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes into the cwd and runs as the _apt user when it can: let it write there.
  chmod 0755 "$tmp"; chown _apt: "$tmp" 2>/dev/null || true
  log "downloading $kpkg=$kver"
  if ! (cd "$tmp" && apt-get download -qq "$kpkg=$kver"); then
    # Stale lists (the mirror dropped that version): refresh and resolve again.
    apt_update_once
    kpkg=$(resolve_kernel_pkg)
    kver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
    target="$KDIR/${kpkg}_${kver}"
    (cd "$tmp" && apt-get download -qq "$kpkg=$kver")
  fi
  deb=$(compgen -G "$tmp/*.deb" | head -n1) || die "apt-get download produced no .deb"
  log "unpacking $(basename "$deb") -> $target"
  rm -rf "$target" "$tmp/x"
  dpkg-deb -x "$deb" "$tmp/x"
  run_depmod "$tmp/x"
  touch "$tmp/x/.complete"
  mv "$tmp/x" "$target"
  rm -rf "$tmp"
  trap - EXIT
fi

# Point "current" at the kernel just resolved; drop older unpacked kernels (they are ~400 MB each).
ln -sfn "$(basename "$target")" "$KDIR/current.new" && mv -T "$KDIR/current.new" "$KDIR/current"
for d in "$KDIR"/linux-image-*; do
  [[ -d $d && $d != "$target" ]] || continue
  log "removing old kernel $d"
  rm -rf "$d"
done
log "kernel: $target ($(basename "$(compgen -G "$target/boot/vmlinuz-*" | head -n1)"))"
log "qemu: $(qemu-system-x86_64 --version | head -n1)"

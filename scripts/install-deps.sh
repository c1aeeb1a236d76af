#!/usr/bin/env bash
# Install the Debian packages tsdock's integration tests and demo scripts need (Debian 12 / bookworm).
# Idempotent: only missing packages are installed, and `apt-get update` only runs when something is missing.
#
#   sudo scripts/install-deps.sh          # CI runs this before the test suite
#   scripts/install-deps.sh --check       # just report; exit 1 if something is missing
set -euo pipefail

# libisal-dev: ISA-L's inflate for the addon (native/addon/inflate.c; without it, zlib's, and its tests skip)
PACKAGES=(docker-registry busybox-static skopeo umoci zstd openssl apache2-utils uidmap gcc libc6-dev libisal-dev util-linux nftables iproute2 passt slirp4netns git)
# Installed when they can be, never a failure: the tests that compare with podman (build's config, save/load
# interop) skip with their reason without it. runc named beside podman so apt takes it for podman's `crun | runc`
# (crun refuses this host's hybrid cgroups).
OPTIONAL=(podman runc)
# A binary (or an absolute file path) per package, to tell "installed and usable" apart from "dpkg knows about it".
declare -A PROBE=(
  [docker-registry]=docker-registry
  [busybox-static]=busybox
  [skopeo]=skopeo
  [umoci]=umoci
  [zstd]=zstd
  [openssl]=openssl
  [apache2-utils]=htpasswd
  [uidmap]=newuidmap
  [gcc]=gcc
  [libc6-dev]=/usr/include/stdio.h
  [libisal-dev]=/usr/include/isa-l/igzip_lib.h
  [util-linux]=script
  [nftables]=nft
  [iproute2]=ip
  [passt]=pasta
  [slirp4netns]=slirp4netns
  [git]=git
  [podman]=podman
  [runc]=runc
)

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

is_installed() {
  local pkg=$1
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" == installed ]] || return 1
  local probe=${PROBE[$pkg]}
  if [[ $probe == /* ]]; then [[ -e $probe ]]; return; fi
  PATH="$PATH:/usr/sbin:/sbin" command -v "$probe" >/dev/null 2>&1
}

missing=()
for p in "${PACKAGES[@]}"; do
  is_installed "$p" || missing+=("$p")
done

# The rootless integration tests run tsdock as this unprivileged user, with its own subordinate id ranges.
TEST_USER=tsdock-test
ensure_test_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$TEST_USER"
    echo "install-deps: created user $TEST_USER"
  fi
  grep -q "^$TEST_USER:" /etc/subuid 2>/dev/null || { echo "$TEST_USER:400000:65536" >>/etc/subuid; echo "install-deps: subuid range for $TEST_USER"; }
  grep -q "^$TEST_USER:" /etc/subgid 2>/dev/null || { echo "$TEST_USER:400000:65536" >>/etc/subgid; echo "install-deps: subgid range for $TEST_USER"; }
  # Rootless networking (pasta) opens /dev/net/tun as the user: Debian's udev makes it 0666, some machines leave it 0600.
  if [[ -c /dev/net/tun && $(stat -c %a /dev/net/tun) != 666 ]]; then
    chmod 0666 /dev/net/tun
    echo "install-deps: /dev/net/tun made 0666 (rootless pasta)"
  fi
}

# The cgroup tests also run on a pure cgroup v2 kernel in a QEMU VM (scripts/vm/): QEMU and a Debian kernel.
optional_deps() {
  local want=()
  for p in "${OPTIONAL[@]}"; do is_installed "$p" || want+=("$p"); done
  ((${#want[@]})) || return 0
  if ((check_only)) || [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: optional, not installed: ${want[*]} (the podman comparison tests skip)"
    return 0
  fi
  echo "install-deps: installing (optional): ${want[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}"; } ||
    echo "install-deps: could not install ${want[*]}: the podman comparison tests skip" >&2
}

vm_deps() {
  [[ ${TSDOCK_SKIP_VM:-0} == 1 ]] && return 0
  if ((check_only)); then "$(dirname "$0")/vm/install-vm-deps.sh" --check; else "$(dirname "$0")/vm/install-vm-deps.sh"; fi
}

if ((${#missing[@]} == 0)); then
  echo "install-deps: all present: ${PACKAGES[*]}"
  ((check_only)) || ensure_test_user
  optional_deps
  vm_deps
  exit 0
fi

if ((check_only)); then
  echo "install-deps: missing: ${missing[*]}" >&2
  exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
  cat >&2 <<EOF
install-deps: missing packages: ${missing[*]}
install-deps: installing them needs root. Run:
    sudo $0
  or: sudo apt-get install -y --no-install-recommends ${missing[*]}
EOF
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; this script supports Debian/Ubuntu only (need: ${missing[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing: ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

still=()
for p in "${missing[@]}"; do
  is_installed "$p" || still+=("$p")
done
if ((${#still[@]})); then
  echo "install-deps: failed to install: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: installed: ${missing[*]}"
ensure_test_user
optional_deps
vm_deps

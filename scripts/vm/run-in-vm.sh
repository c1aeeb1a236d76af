#!/usr/bin/env bash
# Run a command inside a throw-away QEMU VM whose kernel (Debian's, see install-vm-deps.sh) boots
# with cgroup v2 only: the unified hierarchy on /sys/fs/cgroup, every v1 controller disabled.
# The VM sees this host's / (read-only over virtio-9p, made writable with an overlay on tmpfs),
# so the repo, node and the project's tools are the host's own; nothing it writes reaches the host.
#
#   scripts/vm/run-in-vm.sh [options] -- <command> [args...]
#
# Options:
#   --env NAME        forward host variable NAME into the command's environment (repeatable);
#                     CI, NO_COLOR and TSDOCK_* (but TSDOCK_VM_*) are always forwarded when
#                     set. The rest is fixed: PATH (the host's + sbin dirs), HOME=/root,
#                     USER=root, TERM=dumb, LANG=C.UTF-8.
#   --timeout SECS    kill the VM after SECS seconds and exit 124 (default 1200)
#   --mem MB          guest memory (default 2048)      --smp N   guest CPUs (default 2)
#   --module NAME     load this kernel module at boot (repeatable; most autoload anyway)
#   --accel A         tcg (default: software emulation) or kvm; env TSDOCK_VM_ACCEL sets the
#                     default. (On this project's machines /dev/kvm exists but KVM fails with
#                     "KVM internal error ... emulation failure": that is why tcg is the default.)
#   --append ARGS     extra kernel command line arguments (e.g. "loglevel=7" with -v)
#   -v, --verbose     stream the kernel console / VM init log to stderr
#
# The command runs as root in the directory this script was started from, with stdin from
# /dev/null; its stdout and stderr (merged, not a tty) come out on this script's stdout.
# Exit status: the command's, or 124 on timeout, 125 when the VM died before the command
# finished (boot failure, kernel panic, OOM of PID 1...), 2 on bad usage.
#
# Env: TSDOCK_VM_CACHE (default /var/cache/tsdock-vm): where install-vm-deps.sh unpacked the
# kernel; the initramfs is cached there too (or under $XDG_CACHE_HOME/tsdock-vm when that
# is not writable).
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
CACHE=${TSDOCK_VM_CACHE:-/var/cache/tsdock-vm}
KROOT="$CACHE/kernel/current"
MARKER='@@TSDOCK-VM-EXIT'
# The integration tests' unprivileged user (scripts/install-deps.sh creates it).
TSDOCK_VM_HOMES=(/home/tsdock-test)

die() { echo "run-in-vm: $*" >&2; exit 125; }
usage() { # usage [EXIT]: the header comment; on stdout for --help, else on stderr
  local rc=${1:-2}
  sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&$((rc == 0 ? 1 : 2))
  exit "$rc"
}

# --- arguments -------------------------------------------------------------------------------
timeout=1200 mem=2048 smp=2 verbose=0 accel=${TSDOCK_VM_ACCEL:-tcg}
env_names=() extra_modules=() extra_append=
while (($#)); do
  case $1 in
    --env) [[ $# -ge 2 ]] || usage; env_names+=("$2"); shift 2 ;;
    --env=*) env_names+=("${1#*=}"); shift ;;
    --timeout) [[ $# -ge 2 ]] || usage; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --mem) [[ $# -ge 2 ]] || usage; mem=$2; shift 2 ;;
    --smp) [[ $# -ge 2 ]] || usage; smp=$2; shift 2 ;;
    --module) [[ $# -ge 2 ]] || usage; extra_modules+=("$2"); shift 2 ;;
    --accel) [[ $# -ge 2 ]] || usage; accel=$2; shift 2 ;;
    --accel=*) accel=${1#*=}; shift ;;
    --append) [[ $# -ge 2 ]] || usage; extra_append+=" $2"; shift 2 ;;
    -v|--verbose) verbose=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    *) echo "run-in-vm: unknown option: $1 (the command goes after --)" >&2; usage ;;
  esac
done
(($#)) || { echo "run-in-vm: no command given" >&2; usage; }
[[ $timeout =~ ^[0-9]+$ && $mem =~ ^[0-9]+$ && $smp =~ ^[0-9]+$ ]] || { echo "run-in-vm: --timeout/--mem/--smp take integers" >&2; exit 2; }
for n in "${env_names[@]}"; do
  [[ $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "run-in-vm: bad variable name: $n" >&2; exit 2; }
done

# --- prerequisites ---------------------------------------------------------------------------
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run scripts/vm/install-vm-deps.sh as root"
command -v cpio >/dev/null || die "cpio missing: run scripts/vm/install-vm-deps.sh as root"
BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] && file_is_static=$(LC_ALL=C ldd "$BUSYBOX" 2>&1 | grep -c 'not a dynamic' || true)
[[ -n $BUSYBOX && ${file_is_static:-0} -ge 1 ]] || die "a static busybox is needed (apt-get install busybox-static)"
[[ -e "$KROOT/.complete" ]] || die "no kernel in $KROOT: run scripts/vm/install-vm-deps.sh as root"
VMLINUZ=$(compgen -G "$KROOT/boot/vmlinuz-*" | head -n1) || die "no vmlinuz in $KROOT/boot"
KVER=${VMLINUZ##*/vmlinuz-}
KCONFIG="$KROOT/boot/config-$KVER"
MODDIR="$KROOT/lib/modules/$KVER"
[[ -f "$MODDIR/modules.dep" ]] || die "$MODDIR/modules.dep missing: re-run scripts/vm/install-vm-deps.sh"
# The VM runs as root on the host's files: qemu must be able to read all of them (security_model=none).
[[ $(id -u) -eq 0 ]] || echo "run-in-vm: warning: not root; the VM can only read what $(id -un) can read" >&2

case $accel in
  tcg) ;;
  kvm) [[ -r /dev/kvm && -w /dev/kvm ]] || die "--accel kvm: /dev/kvm not usable" ;;
  *) echo "run-in-vm: --accel takes tcg or kvm" >&2; exit 2 ;;
esac

# --- temp dir and cleanup --------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tsdock-vm.XXXXXX")
qpid='' tailpid=''
# shellcheck disable=SC2317 # (only ever called from the traps)
cleanup() {
  local rc=$?
  set +e # (a failing `wait` here must not cut the cleanup short)
  if [[ -n $qpid ]]; then kill -KILL "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; fi
  if [[ -n $tailpid ]]; then kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null; fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
# Ctrl-C / kill: the trap runs as soon as the current foreground command (at most a 0.2 s sleep)
# returns; the EXIT trap then kills qemu and removes the temp dir.
trap 'echo "run-in-vm: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- kernel modules for the initramfs --------------------------------------------------------
# Only what is needed before the host root is mounted, and only if the kernel builds it as a
# module (=m): virtio PCI transport, 9p over virtio, overlayfs (for the writable root), the
# virtio console (the command's output channel) and virtio-rng (entropy). Everything else
# autoloads later through modprobe from the kernel tree on the host root.
declare -A CONFIG_OF=(
  [virtio_pci]=CONFIG_VIRTIO_PCI [9pnet_virtio]=CONFIG_NET_9P_VIRTIO [9p]=CONFIG_9P_FS
  [overlay]=CONFIG_OVERLAY_FS [virtio_console]=CONFIG_VIRTIO_CONSOLE [virtio-rng]=CONFIG_HW_RANDOM_VIRTIO
)
wanted=(virtio_pci 9pnet_virtio 9p overlay virtio_console virtio-rng "${extra_modules[@]}")

declare -A DEPS=() PATH_OF=()
# modules.dep lines: "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko ..."
while IFS= read -r line; do
  mod=${line%%:*}
  name=${mod##*/}; name=${name%%.ko*}; name=${name//-/_}
  PATH_OF[$name]=$mod
  DEPS[$name]=${line#*:}
done <"$MODDIR/modules.dep"

ordered=()
declare -A SEEN=()
add_module() { # depth-first: dependencies before the module itself
  local name=${1//-/_} d dn
  [[ -n ${SEEN[$name]:-} ]] && return 0
  SEEN[$name]=1
  for d in ${DEPS[$name]:-}; do
    dn=${d##*/}; dn=${dn%%.ko*}; add_module "$dn"
  done
  ordered+=("${PATH_OF[$name]}")
}
for m in "${wanted[@]}"; do
  key=${m//-/_}
  cfg=${CONFIG_OF[$m]:-}
  if [[ -n $cfg ]] && grep -q "^$cfg=y" "$KCONFIG"; then continue; fi # built in
  if [[ -z ${PATH_OF[$key]:-} ]]; then
    grep -qx "kernel/.*/${m}.ko" "$MODDIR/modules.builtin" 2>/dev/null && continue
    die "kernel module $m not found in $MODDIR"
  fi
  add_module "$m"
done

# --- the init script (PID 1 in the initramfs) ------------------------------------------------
# Stage 1 runs from the initramfs: mounts the host root, builds the VM's root file system, and
# switch_roots into it. Stage 2 (PID 1 from then on) runs the command and powers off.
# /vm/config.sh and /vm/cmd.sh come from a second, per-run cpio archive appended to the cached one.
read -r -d '' INIT <<'INIT_EOF' || true
#!/bin/busybox sh
export PATH=/bin HOME=/root
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /vm/config.sh

log() { echo "tsdock-vm: $*" >/dev/ttyS0; }
step() { # verbose: a timestamped progress line (/proc moves into the new root half-way)
  [ "$VM_VERBOSE" = 1 ] || return 0
  u=/proc/uptime; [ -r $u ] || u=/newroot/proc/uptime
  read -r up _ <$u
  log "$up $*"
}
fail() {
  log "FATAL: $*"
  echo "@@TSDOCK-VM-EXIT 125@@" >/dev/ttyS0
  poweroff -f
  sleep 5
}

step insmod
for m in $(cat /modules.list); do
  insmod "/lib/modules/$m" || fail "insmod $m"
done

step mount 9p
mkdir -p /host /rw /newroot
# The host's / (qemu exports it read-only). cache=loose: the guest caches data and metadata,
# which is by far the fastest for a tree nobody changes while the VM runs. access=client: the
# guest kernel enforces permissions with the host's uids/modes (qemu itself runs as root).
opts=ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose,access=client,posixacl
i=0
until mount -t 9p -o "$opts" hostroot /host 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 50 ] || fail "cannot mount the host root over 9p"
  sleep 0.1
done

step overlay root
# Writable root: overlay with the host root as lower layer and a tmpfs as upper layer.
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/root/upper /rw/root/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/root/upper,workdir=/rw/root/work /newroot ||
  fail "overlay root"
R=/newroot

mount --move /proc $R/proc
mount --move /dev $R/dev
umount /sys
mount -t sysfs sysfs $R/sys
# cgroup v2 only, with systemd's options (a pure-v2 host looks like this).
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup ||
  mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || fail "cgroup2"
mount -t securityfs securityfs $R/sys/kernel/security 2>/dev/null || true
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null || true
mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts $R/dev/pts
ln -sf pts/ptmx $R/dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/dev/shm
mount -t mqueue mqueue $R/dev/mqueue 2>/dev/null || true
ln -sfn /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin
ln -sf /proc/self/fd/1 $R/dev/stdout
ln -sf /proc/self/fd/2 $R/dev/stderr

# Real tmpfs (not the overlay) where containers keep their layers: overlayfs refuses another
# overlay as its upper layer. If the working directory lies under one of them, it is brought
# back as its own overlay of the host's copy.
mask() { # mask DIR MODE [UID GID]
  d=$1
  [ -d "/host$d" ] || [ "$d" = /var/lib/tsdock ] || return 0
  mkdir -p "$R$d"
  mount -t tmpfs -o "mode=$2${3:+,uid=$3,gid=$4}" tmpfs "$R$d"
  case "$VM_CWD/" in
    "$d"/*)
      if [ -d "/host$VM_CWD" ]; then
        n=$(echo "$VM_CWD" | md5sum | cut -c1-8)
        mkdir -p "$R$VM_CWD" "/rw/cwd$n/upper" "/rw/cwd$n/work"
        mount -t overlay overlay -o "lowerdir=/host$VM_CWD,upperdir=/rw/cwd$n/upper,workdir=/rw/cwd$n/work" "$R$VM_CWD"
      fi ;;
  esac
}
mask /tmp 1777
mask /var/tmp 1777
mask /run 0755
mask /root 0700
mask /var/lib/tsdock 0711
for h in $VM_HOMES; do
  [ -d "/host$h" ] && mask "$h" $(stat -c '%a %u %g' "/host$h")
done

step modules bind
# Kernel modules: the unpacked Debian tree on the host root, so modprobe (and the kernel's own
# module autoloading: overlay, veth, bridge, nf_tables...) works. Busybox's modprobe is used,
# the host may have no kmod.
mkdir -p $R/run/tsdock-vm "$R/lib/modules/$VM_KVER"
mount --bind "/host$VM_MODDIR" "$R/lib/modules/$VM_KVER"
cp /bin/busybox /vm/cmd.sh /vm/config.sh /vm/stage2.sh $R/run/tsdock-vm/
ln -s busybox $R/run/tsdock-vm/modprobe
echo /run/tsdock-vm/modprobe >$R/proc/sys/kernel/modprobe

step switch_root
hostname tsdock-vm
ip link set lo up
[ -d "$R$VM_CWD" ] || fail "working directory $VM_CWD does not exist in the VM"
exec switch_root $R /run/tsdock-vm/busybox sh /run/tsdock-vm/stage2.sh
INIT_EOF

read -r -d '' STAGE2 <<'STAGE2_EOF' || true
# PID 1 after switch_root: run the command, report its exit status on the console, power off.
B=/run/tsdock-vm/busybox
. /run/tsdock-vm/config.sh
. /run/tsdock-vm/cmd.sh   # sets the positional parameters: /usr/bin/env -i NAME=VALUE... command...
umask 022
up() { [ "$VM_VERBOSE" != 1 ] || echo "tsdock-vm: $($B cut -d' ' -f1 /proc/uptime) $*" >/dev/ttyS0; }
up stage2
# The command's output goes to the virtio console hvc0, raw (no CR added to LF: byte-exact).
# fd 3 keeps hvc0 open throughout: its termios are reset whenever its last fd is closed.
# As hvc0 is a tty, the output goes through cat: the command sees a pipe, as on CI.
exec 3<>/dev/hvc0
$B stty raw -echo <&3
$B mkfifo /run/tsdock-vm/out
$B cat /run/tsdock-vm/out >&3 &
catpid=$!
(cd "$VM_CWD" && exec "$@" 3>&-) </dev/null >/run/tsdock-vm/out 2>&1
rc=$?
up "command exited $rc"
# Leftover processes (daemons the command started) may hold the pipe open: kill all but us
# and cat, so that cat sees EOF. (SIGKILL to kernel threads is ignored.)
for p in /proc/[0-9]*; do
  p=${p#/proc/}
  [ "$p" = 1 ] || [ "$p" = "$catpid" ] || kill -KILL "$p" 2>/dev/null
done
wait $catpid
# Wait until the console's output buffer is empty (stty sets the mode with TCSADRAIN).
$B stty raw -echo <&3
echo "@@TSDOCK-VM-EXIT $rc@@" >/dev/ttyS0
$B sync
$B poweroff -f
STAGE2_EOF

# --- cached initramfs ------------------------------------------------------------------------
if [[ -w $CACHE ]]; then icache="$CACHE/initramfs"; else icache="${XDG_CACHE_HOME:-$HOME/.cache}/tsdock-vm/initramfs"; fi
mkdir -p "$icache"
key=$( {
  printf '%s\n' "$INIT" "$STAGE2" "$KROOT -> $(readlink "$KROOT")" "${ordered[@]}"
  sha256sum <"$BUSYBOX"
} | sha256sum | cut -c1-16)
base="$icache/base-$key.cpio.gz"
if [[ ! -s $base ]]; then
  [[ $verbose -eq 1 ]] && echo "run-in-vm: building initramfs $base" >&2
  b="$tmp/base"
  mkdir -p "$b"/{bin,dev,proc,sys,lib/modules,vm}
  cp "$BUSYBOX" "$b/bin/busybox"
  printf '%s\n' "$INIT" >"$b/init"
  printf '%s\n' "$STAGE2" >"$b/vm/stage2.sh"
  chmod 0755 "$b/init"
  : >"$b/modules.list"
  for m in "${ordered[@]}"; do
    f=${m##*/}
    # Uncompress modules for busybox insmod (this kernel ships plain .ko; later ones use .xz/.zst).
    case $f in
      *.ko.xz) xz -dc "$MODDIR/$m" >"$b/lib/modules/${f%.xz}"; f=${f%.xz} ;;
      *.ko.zst) zstd -qdc "$MODDIR/$m" >"$b/lib/modules/${f%.zst}"; f=${f%.zst} ;;
      *.ko.gz) gzip -dc "$MODDIR/$m" >"$b/lib/modules/${f%.gz}"; f=${f%.gz} ;;
      *) cp "$MODDIR/$m" "$b/lib/modules/$f" ;;
    esac
    echo "$f" >>"$b/modules.list"
  done
  (cd "$b" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$base.tmp.$$"
  mv "$base.tmp.$$" "$base"
  # Drop initramfs images built from older inputs.
  find "$icache" -name 'base-*.cpio.gz' ! -name "${base##*/}" -delete 2>/dev/null || true
fi

# --- uncompressed kernel ----------------------------------------------------------------------
# Under TCG, decompressing the 8 MB xz bzImage takes the guest 1.5-2 s. When the kernel has a PVH
# entry point (CONFIG_PVH), qemu boots the plain ELF vmlinux directly: unpack it once, here.
kernel=$VMLINUZ
if grep -q '^CONFIG_PVH=y' "$KCONFIG"; then
  vmlinux="$icache/vmlinux-$KVER-$(stat -c '%s-%Y' "$VMLINUZ")"
  if [[ ! -s $vmlinux ]]; then
    # The payload is the first xz stream in the bzImage (grep -b prints its byte offset).
    off=$(LC_ALL=C grep -obUa $'\xfd7zXZ' "$VMLINUZ" | head -n1 | cut -d: -f1 || true)
    # (Not a pipe: xz stops reading at the end of the stream, tail would die of SIGPIPE.)
    if [[ -n $off ]] && tail -c +$((off + 1)) "$VMLINUZ" >"$tmp/kernel.xz" &&
      xz -dc --single-stream "$tmp/kernel.xz" >"$vmlinux.tmp.$$" 2>/dev/null &&
      [[ $(head -c 4 "$vmlinux.tmp.$$") == $'\x7fELF' ]]; then
      mv "$vmlinux.tmp.$$" "$vmlinux"
      find "$icache" -name 'vmlinux-*' ! -name "${vmlinux##*/}" -delete 2>/dev/null || true
    else
      rm -f "$vmlinux.tmp.$$"
    fi
  fi
  [[ -s $vmlinux ]] && kernel=$vmlinux
fi

# --- per-run archive: working directory, environment, command --------------------------------
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; } # POSIX sh single-quoting
cwd=$(pwd -P)
# Home directories that get their own tmpfs in the VM (rootless tsdock keeps its store there).
homes=()
for h in "${TSDOCK_VM_HOMES[@]}"; do [[ -d $h ]] && homes+=("$h"); done
run="$tmp/run"
mkdir -p "$run/vm"
{
  echo "VM_CWD=$(q "$cwd")"
  echo "VM_KVER=$(q "$KVER")"
  echo "VM_MODDIR=$(q "$(readlink -f "$MODDIR")")"
  echo "VM_HOMES=$(q "${homes[*]}")"
  echo "VM_VERBOSE=$verbose"
} >"$run/vm/config.sh"
ENV_BIN=$(type -P env) || die "env(1) not found"
# PATH: the host's (same file system, so node & co. are found where they are here), plus the
# standard directories root needs (sbin) when missing.
vm_path=$PATH
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [[ :$vm_path: == *:$d:* ]] || vm_path+=:$d
done
envs=("PATH=$vm_path" HOME=/root USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb LANG=C.UTF-8)
for n in CI NO_COLOR $(compgen -v TSDOCK_ | grep -v '^TSDOCK_VM_' || true) "${env_names[@]}"; do
  [[ -v $n ]] && envs+=("$n=${!n}")
done
{
  # The host's env(1), not busybox's: busybox-static runs its own applets in preference to
  # PATH lookups (FEATURE_PREFER_APPLETS), so `busybox env sh` would run busybox's sh.
  printf 'set -- %s -i' "$(q "$ENV_BIN")"
  for e in "${envs[@]}"; do printf ' %s' "$(q "$e")"; done
  for a in "$@"; do printf ' %s' "$(q "$a")"; done
  printf '\n'
} >"$run/vm/cmd.sh"
(cd "$run" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/run.cpio"
# The kernel unpacks concatenated (compressed or not) cpio archives in order, but it only
# recognizes an uncompressed one that starts at a 4-byte aligned offset: pad with zeros between.
pad=$(( (4 - $(stat -c %s "$base") % 4) % 4 ))
{ cat "$base"; head -c "$pad" /dev/zero; cat "$tmp/run.cpio"; } >"$tmp/initrd"

# --- boot ------------------------------------------------------------------------------------
append="console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
# TCG: mitigations=off saves a lot of emulated page-table switching on every syscall.
append+=" mitigations=off random.trust_cpu=on 8250.nr_uarts=1$extra_append"
# shellcheck disable=SC2054 # (qemu's options have commas in them)
if [[ $accel == kvm ]]; then accel_args=(-accel kvm -cpu host); else accel_args=(-accel tcg,thread=multi -cpu max); fi
console_log="$tmp/console.log"
: >"$console_log"
# shellcheck disable=SC2054
qemu_args=(
  -nodefaults -no-user-config -display none -no-reboot
  "${accel_args[@]}" -smp "$smp" -m "$mem"
  -kernel "$kernel" -initrd "$tmp/initrd" -append "$append"
  -net none
  # Kernel console + init messages (and the exit marker) go to a file.
  -chardev "file,id=con,path=$console_log" -serial chardev:con
  # The command's output: virtio console, straight to our stdout.
  -chardev stdio,id=out,signal=off -device virtio-serial-pci -device virtconsole,chardev=out
  -device virtio-rng-pci
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
)
start=$SECONDS
# In the background so that this script can time out and trap signals. (qemu installs its own
# SIGINT handler, so a Ctrl-C on the terminal also stops it directly.)
qemu-system-x86_64 "${qemu_args[@]}" </dev/null &
qpid=$!
if ((verbose)); then
  tail -s 0.2 -n +1 -f --pid="$qpid" "$console_log" >&2 &
  tailpid=$!
fi

# Timeout: poll (a sleeping watchdog would have to be killed too; this is simpler).
timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
  if ((SECONDS - start >= timeout)); then
    timed_out=1
    kill -KILL "$qpid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
qrc=0
wait "$qpid" 2>/dev/null || qrc=$?  # (2>: no "Killed" job notice)
qpid=''
[[ -n $tailpid ]] && { wait "$tailpid" 2>/dev/null || true; tailpid=''; }

if ((timed_out)); then
  echo "run-in-vm: timed out after ${timeout}s; VM killed" >&2
  exit 124
fi
code=$(tr -d '\r' <"$console_log" | sed -n "s/^.*$MARKER \([0-9]\{1,3\}\)@@.*\$/\1/p" | tail -n1)
if [[ -z $code ]]; then
  echo "run-in-vm: the VM stopped (qemu exit $qrc) without reporting the command's exit status; console:" >&2
  tr -d '\r' <"$console_log" | tail -n 40 | sed 's/^/  | /' >&2
  exit 125
fi
if ((code == 125)) && grep -q 'tsdock-vm: FATAL' "$console_log"; then
  ((verbose)) || grep 'tsdock-vm: ' "$console_log" | tr -d '\r' >&2
fi
exit "$code"

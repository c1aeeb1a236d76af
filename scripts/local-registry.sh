#!/usr/bin/env bash
# A local, offline registry for trying tsdock without network access.
#
#   scripts/local-registry.sh start    # start docker-registry on 127.0.0.1:5000 and push busybox:latest; prints the ref
#   scripts/local-registry.sh status   # running? which image refs are there? (exit 3 when stopped)
#   scripts/local-registry.sh stop
#
# Environment: TSDOCK_DEMO_PORT (default 5000), TMPDIR (state lives in ${TMPDIR:-/tmp}/tsdock-demo-registry).
# Needs docker-registry, skopeo, umoci and busybox-static (scripts/install-deps.sh). Idempotent.
set -euo pipefail

PORT="${TSDOCK_DEMO_PORT:-5000}"
HOST="127.0.0.1:${PORT}"
DIR="${TMPDIR:-/tmp}/tsdock-demo-registry"
CONFIG="$DIR/config-$PORT.yml"
PIDFILE="$DIR/registry-$PORT.pid"
LOG="$DIR/registry-$PORT.log"
REF="$HOST/busybox:latest"

die() { echo "local-registry: $*" >&2; exit 1; }

need() {
  local missing=()
  for b in "$@"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (run scripts/install-deps.sh)"
}

# pid of our registry if it is running (checks that the pid really is docker-registry serving our config)
our_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid=$(<"$PIDFILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "serve $CONFIG" || return 1
  echo "$pid"
}

# HTTP status of GET /v2/ (bash /dev/tcp; no curl needed), or empty when nothing answers
v2_status() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 0
    printf 'GET /v2/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$HOST" >&3
    line=
    IFS= read -r -t 2 line <&3 || true
    line=${line%$'\r'}
    set -- $line
    echo "${2:-}"
  ) 2>/dev/null || true
}

image_present() {
  skopeo inspect --raw --tls-verify=false --no-creds "docker://$REF" >/dev/null 2>&1
}

build_busybox_layout() {
  local layout="$DIR/oci"
  if [[ -f "$layout/index.json" ]] && umoci ls --layout "$layout" 2>/dev/null | grep -qx busybox; then
    return 0
  fi
  local bb
  bb=$(command -v busybox || true)
  [[ -n "$bb" ]] || die "busybox not found (apt-get install busybox-static)"
  local work
  work=$(mktemp -d "$DIR/build.XXXXXX")
  local root="$work/rootfs"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,home/app,proc,sys,dev}
  cp "$bb" "$root/bin/busybox"
  chmod 0755 "$root/bin/busybox"
  local applet dir target
  while IFS= read -r applet; do
    [[ "$applet" == */* && "$applet" != bin/busybox ]] || continue
    dir=${applet%/*}
    case "$dir" in
      bin) target=busybox ;;
      sbin) target=../bin/busybox ;;
      *) target=../../bin/busybox ;;
    esac
    mkdir -p "$root/$dir"
    ln -sf "$target" "$root/$applet"
  done < <("$root/bin/busybox" --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  tar --sort=name --mtime=@1700000000 --numeric-owner --owner=0 --group=0 --format=gnu \
    --exclude=./home/app -C "$root" -cf "$work/layer.tar" .
  tar --sort=name --mtime=@1700000000 --numeric-owner --owner=1000 --group=1000 --format=gnu \
    -C "$root" -rf "$work/layer.tar" ./home/app
  rm -rf "$layout"
  umoci --log error init --layout "$layout"
  umoci --log error new --image "$layout:busybox"
  umoci --log error raw add-layer --image "$layout:busybox" --history.created_by 'busybox-static rootfs' "$work/layer.tar"
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l) arch=arm ;; i686) arch=386 ;; *) arch=$(uname -m) ;;
  esac
  umoci --log error config --image "$layout:busybox" --config.cmd sh \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --architecture "$arch" --os linux
  umoci --log error gc --layout "$layout"
  rm -rf "$work"
}

cmd_start() {
  need docker-registry skopeo umoci tar
  mkdir -p "$DIR/storage"
  local pid
  if pid=$(our_pid); then
    :
  else
    local st
    st=$(v2_status)
    [[ -z "$st" ]] || die "port $PORT is already in use by something else (HTTP ${st:-?}); set TSDOCK_DEMO_PORT"
    cat >"$CONFIG" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
http:
  addr: $HOST
health:
  storagedriver:
    enabled: false
EOF
    nohup docker-registry serve "$CONFIG" >>"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
    local i
    for ((i = 0; i < 100; i++)); do
      [[ "$(v2_status)" == 200 ]] && break
      kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; die "docker-registry exited (log: $LOG)"; }
      sleep 0.1
    done
    [[ "$(v2_status)" == 200 ]] || die "docker-registry did not become ready on $HOST (log: $LOG)"
    echo "local-registry: started docker-registry (pid $pid) on http://$HOST, storage $DIR/storage" >&2
  fi
  if ! image_present; then
    build_busybox_layout
    skopeo copy --quiet --format v2s2 --dest-tls-verify=false --dest-no-creds \
      "oci:$DIR/oci:busybox" "docker://$REF"
    echo "local-registry: pushed $REF" >&2
  fi
  echo "$REF"
}

cmd_stop() {
  local pid
  if pid=$(our_pid); then
    kill "$pid"
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "local-registry: stopped (pid $pid)" >&2
  else
    echo "local-registry: not running" >&2
  fi
  rm -f "$PIDFILE"
}

cmd_status() {
  local pid
  if pid=$(our_pid) && [[ "$(v2_status)" == 200 ]]; then
    echo "running: pid $pid, http://$HOST, storage $DIR/storage"
    if image_present; then echo "image: $REF"; else echo "image: $REF (not pushed yet; run start)"; fi
    return 0
  fi
  echo "stopped (state dir $DIR)"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  -h|--help|help) sed -n '2,10p' "$0" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

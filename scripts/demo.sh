#!/usr/bin/env bash
# The README's main job: build, pull an image, list it and run a container from it. Offline by default: a local
# registry on 127.0.0.1 serves an image made from Debian's busybox-static. TSDOCK_DEMO_IMAGE overrides the image.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] && bash scripts/install-deps.sh >/dev/null
[ -f dist/bundle/tsdock.cjs ] && [ -x native/build/tsdock-exec ] || npm run build >/dev/null
image="${TSDOCK_DEMO_IMAGE:-}"
if [ -z "$image" ]; then
  image=$(bash scripts/local-registry.sh start | tail -n 1)
fi
bin/tsdock pull "$image"
bin/tsdock images
bin/tsdock run --rm "$image" sh -c 'echo "hello from $(hostname), pid $$, $(id -un)"'

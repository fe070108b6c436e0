#!/usr/bin/env bash
# CI entry of the kernel suite: fill the kernel rig's cache (tests/kernel/rig/setup.sh:
# qemu, busybox and Debian's Linux 6.1 and 6.12, fetched with apt-get download into a user
# cache; nothing installed system-wide), build the static infoblock for the guest, boot every
# case of suite.json on both kernels, and fail on any difference between
#   - the live kernels and tests/kernel/recorded.json,
#   - the live kernels and `infoblock check --json` run on the host on the image (the
#     crate's prediction), and
#   - the live kernels and `infoblock check --json` run inside the guest on the kernel's own
#     raw /dev/pmemN (the static binary, rig/build-static.sh).
# usage: tests/kernel/ci.sh PATH_TO_INFOBLOCK
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
INFOBLOCK=${1:?usage: ci.sh PATH_TO_INFOBLOCK}
RIG_DIR=${RIG_DIR:-"$HERE/rig"}
export RIG_DIR

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
# the static build links glibc's libc.a
if [ ! -e /usr/lib/x86_64-linux-gnu/libc.a ]; then
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libc6-dev >/dev/null
fi
"$RIG_DIR/setup.sh"
static=$("$RIG_DIR/build-static.sh")
exec "$HERE/run-suite.sh" --check-cmd "$INFOBLOCK" --guest-check --infoblock "$static"

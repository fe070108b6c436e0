#!/usr/bin/env bash
# CI entry of the kernel suite: set up the kernel harness (Linux 6.1 and 6.12 under qemu,
# fetched with apt-get download into a user cache; nothing installed system-wide), boot every
# case of suite.json on both kernels, and fail on any difference between
#   - the live kernels and tests/kernel/recorded.json, and
#   - the live kernels and `infoblock check --json` (the crate's prediction).
# usage: tests/kernel/ci.sh PATH_TO_INFOBLOCK
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
INFOBLOCK=${1:?usage: ci.sh PATH_TO_INFOBLOCK}
NDH_DIR=${NDH_DIR:-"$HERE/../../../shared/kernel-harness"}
export NDH_DIR
[ -x "$NDH_DIR/run.sh" ] || { echo "kernel-suite: no harness at $NDH_DIR" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
"$NDH_DIR/setup.sh"
"$NDH_DIR/setup.sh" --kernel-suite bookworm-backports
exec "$HERE/run-suite.sh" --check-cmd "$INFOBLOCK"

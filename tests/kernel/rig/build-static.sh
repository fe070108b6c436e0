#!/usr/bin/env bash
# build-static.sh - build the infoblock CLI as a statically linked x86_64
# binary for the rig's guest (run.sh -b), and print its path.
#
# The guest has busybox and no libc, so the binary links glibc statically
# (-C target-feature=+crt-static; needs libc6-dev's libc.a). It is built in
# its own target directory (default target/rig-static) so that the changed
# RUSTFLAGS do not make cargo rebuild the normal target/ from scratch.
# usage: tests/kernel/rig/build-static.sh [CARGO_BUILD_ARGS...]
# env: RIG_TARGET_DIR (default: REPO/target/rig-static)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${RIG_TARGET_DIR:-$repo/target/rig-static}
triple=x86_64-unknown-linux-gnu
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] ||
	echo "build-static.sh: warning: no libc.a (apt-get install libc6-dev)" >&2
(cd "$repo" && CARGO_TARGET_DIR="$dir" RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
	cargo build --release --locked --bin infoblock --target "$triple" "$@" >&2)
bin="$dir/$triple/release/infoblock"
# ldd says "not a dynamic executable" (static) or "statically linked"
# (static-pie); anything that lists libraries would not run in the guest
if ldd "$bin" 2>&1 | grep -q '=>'; then
	echo "build-static.sh: $bin is dynamically linked:" >&2
	ldd "$bin" >&2
	exit 1
fi
echo "$bin"

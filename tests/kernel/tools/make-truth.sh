#!/usr/bin/env bash
# make-truth.sh - re-create the kernel-written fixtures in tests/data/kernel/
# with the repository's kernel rig (tests/kernel/rig: run its setup.sh first, which fetches
# 6.1 and 6.12). The fixtures of 2026-12-04 were made with the rig's reference, an earlier
# harness with the same run.sh interface.
#
# usage: make-truth.sh [btt|labels|big|all]     (default: all but big)
# env:   NDH_HARNESS  rig directory (default tests/kernel/rig)
#        TRUTH_OUT    scratch directory for images and logs
#                     (default ${TMPDIR:-/tmp}/nd-truth)
#        JOBS         boots at once (default 2; each boot uses one core)
#
# Each BTT case boots 3 times (create on one kernel with -w, then re-boot
# on 6.1 and 6.12); the label chain boots 2 + 6 x 3 times. On a 2-core
# machine the whole set takes about 25 minutes; "big" (the 520 GiB sparse
# image, two arenas) needs ~1 GiB of real disk and several minutes more.
# The uuids are fixed, so re-running gives the same metadata; what can
# differ between runs is only which lane (CPU) a write used when the case
# boots with 2 CPUs (cases marked --smp 2).
set -euo pipefail
T=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
F=$(cd "$T/../../data" && pwd)/kernel
export NDH_HARNESS=${NDH_HARNESS:-"$(cd "$(dirname "$0")/../rig" && pwd)"}
OUT=${TRUTH_OUT:-${TMPDIR:-/tmp}/nd-truth}
JOBS=${JOBS:-2}
what=${1:-default}
K612=6.12.95+deb12-amd64
mkdir -p "$OUT/btt" "$OUT/labels" "$OUT/labels-v11" "$F/btt" "$F/labels" "$F/labels-v11"
run_labels() {
	python3 "$T/labels.py" --out "$OUT/labels" --fixture "$F/labels"
	# v1.1 index (128-byte labels, 1020 slots): a shorter chain
	python3 "$T/labels.py" --label-size 128 --steps s1-create-a,s2-create-b,s7-btt2 \
		--out "$OUT/labels-v11" --fixture "$F/labels-v11"
}

btt_cases() { # one truth.py argument list per line
	cat <<EOC
min-16M --size 16777216 --ss 4096 --gens 5
min-16M-k612 --size 16777216 --ss 4096 --gens 5 --kernel $K612 --no-reboot
min-16M4K --size 16781312 --ss 4096 --gens 5
256M-512 --size 268435456 --ss 512 --smp 2
256M-4096 --size 268435456 --ss 4096 --smp 2
256M-520 --size 268435456 --ss 520
256M-4104 --size 268435456 --ss 4104
256M-528 --size 268435456 --ss 528
256M-4224 --size 268435456 --ss 4224
256M-4160 --size 268435456 --ss 4160
2G-512 --size 2147483648 --ss 512
256M-512-k612 --size 268435456 --ss 512 --kernel $K612
256M-4096-k612 --size 268435456 --ss 4096 --smp 2 --kernel $K612
EOC
}
big_cases() {
	echo "520G-4096 --size 558345748480 --ss 4096 --gens 10"
	echo "512G+8M-4096 --size 549764206592 --ss 4096 --gens 10"
}
run_btt() {
	"$1" | xargs -P "$JOBS" -I{} sh -c "python3 '$T/truth.py' btt {} --out '$OUT/btt' --fixture '$F/btt'"
	# a case the kernel refuses has no image to keep
	rm -f "$F/btt/min-16M.ndsparse" "$F/btt/min-16M-k612.ndsparse"
}
case $what in
btt) run_btt btt_cases ;;
labels) run_labels ;;
big) run_btt big_cases ;;
default) run_btt btt_cases; run_labels ;;
all) run_btt btt_cases; run_labels; run_btt big_cases ;;
*) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 1 ;;
esac

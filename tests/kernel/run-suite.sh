#!/usr/bin/env bash
# run-suite.sh - boot every case of suite.json under real Linux kernels (the
# kernel harness in ../shared/kernel-harness) and record or compare what the
# kernels do with each info-block.
#
# usage: tests/kernel/run-suite.sh [options]
#   (default)        boot every case on every cached kernel and compare with
#                    recorded.json; exit 1 on any difference in verdict, stage,
#                    dev_size, dev_resource or dev_align
#   --record         boot every case and (re)write recorded.json instead
#   --check-cmd CMD  also run `CMD check IMAGE --ns-start 0x100000000 --kernel K
#                    --json` (K = 6.1, 6.12, ...) for each image and kernel and
#                    compare verdict/stage/dev_size/dev_resource/dev_align of
#                    its JSON with the kernel's answer. CMD is shell text, e.g.
#                    --check-cmd 'target/release/nvdimm-infoblock'
#   --recorded       do not boot: take the kernel answers from recorded.json
#                    (only useful with --check-cmd; takes seconds, not minutes)
#   --no-compare     do not compare with recorded.json (with --check-cmd: only
#                    CLI against the live kernel)
#   --only A,B       only these cases
#   --jobs N         images booted at the same time (default 2: one core each)
#   --kernels LIST   run.sh -K value (default "all": every kernel in the cache)
#   --keep-logs DIR  keep every console log (run.sh -k)
# env: NDH_DIR   the kernel harness (default: ../shared/kernel-harness beside
#                the checkout); NDH_TIMEOUT, NDH_CACHE, ... are passed to run.sh
# output: one line per case, a diff for each failure, and finally
#   kernel-suite: N passed, M failed
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NDH_DIR=${NDH_DIR:-"$HERE/../../../shared/kernel-harness"}
SUITE="$HERE/suite.json"
RECORDED="$HERE/recorded.json"
PY=python3

mode=compare offline=0 check_cmd="" only="" jobs=2 kernels=all keep=""
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-1}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--record) mode=record ;;
	--recorded) offline=1 ;;
	--no-compare) mode=none ;;
	--check-cmd) check_cmd=${2:?--check-cmd needs a command}; shift ;;
	--check-cmd=*) check_cmd=${1#*=} ;;
	--only) only=${2:?}; shift ;;
	--only=*) only=${1#*=} ;;
	--jobs|-j) jobs=${2:?}; shift ;;
	--kernels) kernels=${2:?}; shift ;;
	--keep-logs) keep=${2:?}; shift ;;
	-h|--help) usage 0 ;;
	*) echo "run-suite.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done
if [ $offline = 1 ]; then
	[ -n "$check_cmd" ] || { echo "run-suite.sh: --recorded needs --check-cmd" >&2; exit 1; }
	[ $mode = record ] && { echo "run-suite.sh: --recorded and --record exclude each other" >&2; exit 1; }
	mode=none
	[ -f "$RECORDED" ] || { echo "run-suite.sh: no $RECORDED" >&2; exit 1; }
else
	[ -x "$NDH_DIR/run.sh" ] || {
		echo "run-suite.sh: no kernel harness at $NDH_DIR (set NDH_DIR)" >&2; exit 1; }
fi
[ -z "$keep" ] || { mkdir -p "$keep"; keep=$(cd "$keep" && pwd); }

# the committed cases must be what gen.py generates
"$PY" "$HERE/gen.py" --verify >/dev/null || {
	echo "run-suite.sh: cases/ or suite.json is out of date: run python3 $HERE/gen.py" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kernel-suite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/img" "$tmp/out" "$tmp/check"

mapfile -t cases < <("$PY" "$HERE/suite.py" cases "$SUITE" ${only:+--only "$only"})
total=${#cases[@]}
[ "$total" -gt 0 ] || { echo "run-suite.sh: no cases" >&2; exit 1; }

run_case() { # INDEX NAME NS_SIZE
	local i=$1 name=$2 size=$3 img="$tmp/img/$2.img" t0 ks k base summary
	t0=$(date +%s)
	truncate -s "$size" "$img"
	dd if="$HERE/cases/$name.head" of="$img" bs=8192 count=1 conv=notrunc status=none
	if [ $offline = 0 ]; then
		local rc=0 attempt
		# run.sh exits 2 when a boot produced no guest report (verdict=error): a harness
		# failure, not a kernel answer (seen under heavy host load). Boot again, twice at most.
		for attempt in 1 2 3; do
			rc=0
			"$NDH_DIR/run.sh" -J -K "$kernels" ${keep:+-k "$keep"} "$img" \
				>"$tmp/out/$name.out" 2>"$tmp/out/$name.err" || rc=$?
			[ "$rc" = 2 ] || break
			echo "[$i/$total] $name: harness boot error (attempt $attempt), booting again" >&2
		done
		echo "$rc" >"$tmp/out/$name.rc"
		ks=$("$PY" "$HERE/suite.py" kernels "$tmp/out/$name.out")
	else
		ks=$("$PY" "$HERE/suite.py" recorded-kernels "$RECORDED" "$name")
	fi
	if [ -n "$check_cmd" ]; then
		for k in $ks; do
			base="$tmp/check/$name.$k"
			local crc=0
			eval "$check_cmd"' check "$img" --ns-start 0x100000000 --kernel "$k" --json' \
				>"$base.json" 2>"$base.err" </dev/null || crc=$?
			echo "$crc" >"$base.rc"
		done
	fi
	rm -f "$img"
	if [ $offline = 0 ]; then
		summary=$(awk '/^NDH-VERDICT/ {
			v = ""; k = ""; s = ""
			for (j = 1; j <= NF; j++) {
				if ($j ~ /^verdict=/) v = substr($j, 9)
				if ($j ~ /^kernel=/) k = substr($j, 8)
				if ($j ~ /^stage=/) s = "/" substr($j, 7)
			}
			printf "%s%s=%s%s", sep, k, v, s; sep = " " }' "$tmp/out/$name.out")
		echo "[$i/$total] $name: ${summary:-no verdict (see run.sh stderr)} ($(( $(date +%s) - t0 ))s)"
	fi
}

start=$(date +%s)
i=0 running=0
for line in "${cases[@]}"; do
	i=$((i + 1))
	set -- $line
	run_case "$i" "$1" "$2" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait || true
elapsed=$(( $(date +%s) - start ))

if [ $offline = 0 ]; then
	"$PY" "$HERE/suite.py" collect "$SUITE" "$tmp/out" "$tmp/live.json"
	# run.sh's own complaints (e.g. a missing kernel cache) are worth seeing
	for f in "$tmp"/out/*.err; do
		[ -s "$f" ] && { echo "--- run.sh stderr for $(basename "$f" .err):"; cat "$f"; }
	done
else
	"$PY" "$HERE/suite.py" offline-live "$RECORDED" "$tmp/live.json" ${only:+--only "$only"}
fi
echo "kernel-suite: $total cases in ${elapsed}s"
rc=0
"$PY" "$HERE/suite.py" report --mode "$mode" --suite "$SUITE" --live "$tmp/live.json" \
	--recorded "$RECORDED" ${check_cmd:+--check-dir "$tmp/check"} || rc=$?
exit $rc

#!/usr/bin/env bash
# run-suite.sh - boot every case of suite.json under real Linux kernels (the
# repository's kernel rig, tests/kernel/rig) and record or compare what the
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
#                    --check-cmd 'target/release/infoblock'
#   --recorded       do not boot: take the kernel answers from recorded.json
#                    (only useful with --check-cmd; takes seconds, not minutes)
#   --no-compare     do not compare with recorded.json (with --check-cmd: only
#                    CLI against the live kernel)
#   --only A,B       only these cases
#   --jobs N         images booted at the same time (default 2: one core each)
#   --kernels LIST   run.sh -K value (default "all": every kernel in the cache)
#   --keep-logs DIR  keep every console log (run.sh -k)
# In-guest commands (the hook for cases that need the live kernel's devices):
#   --guest-cmd CMD  in every booted guest, after probing: make the namespace
#                    raw (rig-raw) and run CMD (busybox sh text) with RIG_NS
#                    (namespace0.0), RIG_DEV (/dev/pmemN, the whole namespace),
#                    RIG_NS_START, RIG_NS_SIZE (sysfs resource and size),
#                    RIG_KERNEL (6.1, 6.12) set and /bin/infoblock present.
#                    The verdict is still the kernel's own, from before
#                    rig-raw (run.sh -p). A case of suite.json with a
#                    "guest_cmd" key runs that instead ("guest_raw": false in
#                    the case: no rig-raw, no RIG_DEV)
#   --guest-keep-state  no rig-raw for --guest-cmd: CMD sees the kernel's own
#                    state (for `infoblock probe`-like commands)
#   --guest-check    CMD = `infoblock check "$RIG_DEV" --ns-start
#                    "$RIG_NS_START" --ns-size "$RIG_NS_SIZE" --kernel
#                    "$RIG_KERNEL" --json`, and its JSON is compared with the
#                    kernel's answer like --check-cmd's (in the same guest, on
#                    the kernel's own /dev/pmemN)
#   --guest-out FILE write every guest command's rc, stdout and stderr as JSON
#   --infoblock BIN  the static binary for the guest (default: built by
#                    rig/build-static.sh)
# env: RIG_DIR   the rig (default: tests/kernel/rig; any directory with a
#                run.sh of the same interface works); RIG_TIMEOUT, RIG_CACHE,
#                RIG_MEM are passed to run.sh
# output: one line per case, a diff for each failure, and finally
#   kernel-suite: N passed, M failed
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RIG_DIR=${RIG_DIR:-"$HERE/rig"}
SUITE="$HERE/suite.json"
RECORDED="$HERE/recorded.json"
PY=python3

mode=compare offline=0 check_cmd="" only="" jobs=2 kernels=all keep=""
guest_cmd="" guest_check=0 guest_out="" infoblock="" guest_keep=0
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
	--guest-cmd) guest_cmd=${2:?--guest-cmd needs a command}; shift ;;
	--guest-check) guest_check=1 ;;
	--guest-keep-state) guest_keep=1 ;;
	--guest-out) guest_out=${2:?}; shift ;;
	--infoblock) infoblock=${2:?}; shift ;;
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
	[ -x "$RIG_DIR/run.sh" ] || {
		echo "run-suite.sh: no kernel rig at $RIG_DIR (set RIG_DIR)" >&2; exit 1; }
fi
[ -z "$keep" ] || { mkdir -p "$keep"; keep=$(cd "$keep" && pwd); }
if [ $guest_check = 1 ]; then
	[ -z "$guest_cmd" ] || { echo "run-suite.sh: --guest-check sets the guest command itself" >&2; exit 1; }
	guest_cmd='infoblock check "$RIG_DEV" --ns-start "$RIG_NS_START" --ns-size "$RIG_NS_SIZE" --kernel "$RIG_KERNEL" --json'
fi
if [ $offline = 1 ] && [ -n "$guest_cmd" ]; then
	echo "run-suite.sh: --recorded does not boot: no guest commands" >&2; exit 1
fi

# the committed cases must be what gen.py generates
"$PY" "$HERE/gen.py" --verify >/dev/null || {
	echo "run-suite.sh: cases/ or suite.json is out of date: run python3 $HERE/gen.py" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kernel-suite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/img" "$tmp/out" "$tmp/check"

mapfile -t cases < <("$PY" "$HERE/suite.py" cases "$SUITE" ${only:+--only "$only"})
total=${#cases[@]}
[ "$total" -gt 0 ] || { echo "run-suite.sh: no cases" >&2; exit 1; }
# any case with its own guest_cmd also needs the guest binary
need_bin=0
if [ $offline = 0 ] && "$PY" "$HERE/suite.py" has-guest-cmd "$SUITE" ${only:+--only "$only"}; then
	need_bin=1
fi
if [ -n "$guest_cmd" ] || [ $need_bin = 1 ]; then
	[ -n "$infoblock" ] || infoblock=$("$RIG_DIR/build-static.sh")
	[ -x "$infoblock" ] || { echo "run-suite.sh: no binary $infoblock" >&2; exit 1; }
fi

# guest_action NAME OUT: write the action script of a case (nothing when the
# case has no guest command); prints the run.sh options it needs
guest_action() {
	local cmd raw=1
	cmd=$("$PY" "$HERE/suite.py" guest-cmd "$SUITE" "$1")
	if [ -n "$cmd" ]; then
		[ "$("$PY" "$HERE/suite.py" guest-raw "$SUITE" "$1")" = 1 ] || raw=0
	else
		cmd=$guest_cmd
		[ $guest_keep = 0 ] || raw=0
	fi
	[ -n "$cmd" ] || return 0
	{
		echo 'RIG_NS=$(rig-ns) || { echo "guest-cmd: no namespace"; exit 1; }'
		echo 'RIG_NS_START=$(cat /sys/bus/nd/devices/$RIG_NS/resource)'
		echo 'RIG_NS_SIZE=$(cat /sys/bus/nd/devices/$RIG_NS/size)'
		echo 'RIG_KERNEL=$(uname -r | cut -d. -f1,2)'
		if [ $raw = 1 ]; then
			echo 'raw=$(rig-raw "$RIG_NS") || { echo "guest-cmd: rig-raw failed"; exit 1; }'
			echo 'set -- $raw'
			echo 'RIG_DEV=$1'
			echo 'export RIG_DEV'
		fi
		echo 'export RIG_NS RIG_NS_START RIG_NS_SIZE RIG_KERNEL'
		echo "cat >/tmp/guest-cmd <<'RIG_GUEST_CMD_END'"
		printf '%s\n' "$cmd"
		echo 'RIG_GUEST_CMD_END'
		echo 'echo guest-cmd-begin'
		echo 'rc=0; sh /tmp/guest-cmd 2>/tmp/guest-cmd.err || rc=$?'
		echo 'echo "guest-cmd-end rc=$rc"'
		echo "sed 's/^/guest-cmd-stderr /' /tmp/guest-cmd.err"
	} >"$2"
	echo "-p -b $infoblock -a $2"
}

run_case() { # INDEX NAME NS_SIZE
	local i=$1 name=$2 size=$3 img="$tmp/img/$2.img" t0 ks k base summary
	t0=$(date +%s)
	truncate -s "$size" "$img"
	dd if="$HERE/cases/$name.head" of="$img" bs=8192 count=1 conv=notrunc status=none
	if [ $offline = 0 ]; then
		local rc=0 attempt gopts
		gopts=$(guest_action "$name" "$tmp/img/$name.action.sh")
		# run.sh exits 2 when a boot produced no guest report (verdict=error): a harness
		# failure, not a kernel answer (seen under heavy host load). Boot again, twice at most.
		for attempt in 1 2 3; do
			rc=0
			# shellcheck disable=SC2086  # gopts: options without spaces
			"$RIG_DIR/run.sh" -J -K "$kernels" ${keep:+-k "$keep"} $gopts "$img" \
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
	rm -f "$img" "$tmp/img/$name.action.sh"
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
	--recorded "$RECORDED" ${check_cmd:+--check-dir "$tmp/check"} \
	$([ $guest_check = 1 ] && echo --guest-check) ${guest_out:+--guest-out "$guest_out"} || rc=$?
exit $rc

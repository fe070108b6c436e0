#!/usr/bin/env bash
# Where are the surviving panic paths? Builds the proof binary with a panic handler that links
# (feature `locate`, line tables on) and prints, for every call into core's panic machinery,
# the inlined source chain of the call site. Usage: ./locate.sh [cargo feature args]
set -euo pipefail
cd "$(dirname "$0")"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--features all)
cargo build --quiet --profile release-locate --no-default-features --features locate "${args[@]}"
bin=target/release-locate/nvdimm-infoblock-no-panic
objdump -d --no-show-raw-insn -C "$bin" |
    awk '/call|jmp/ && /panic|slice_(start|end)_index|slice_index_order|index_fail|unwrap_failed|expect_failed|assert_failed|str_index/ { sub(":", "", $1); print $1, $NF }' |
    while read -r addr target; do
        echo "== 0x$addr -> $target"
        addr2line -e "$bin" -i -f -C -a "0x$addr" | grep -v "^0x" | paste - - | sed 's/^/   /'
    done

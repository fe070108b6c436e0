#!/usr/bin/env bash
# The link-time no-panic proof and the footprint of the library (see BENCHMARKS.md).
#
# 1. `cargo build --release` (opt-level 3, LTO, one codegen unit, panic = "abort") of a
#    binary whose panic handler calls an undefined symbol: the link fails if any panic path
#    of the calls in src/main.rs survives. Exits non-zero then.
# 2. The same binary with opt-level "s" (profile release-s), built once per feature set;
#    the library's footprint is the growth of .text over the bare harness (no calls).
set -euo pipefail
cd "$(dirname "$0")"

bin=nvdimm-infoblock-no-panic
text_bytes() { size -A "$1" | awk '$1 == ".text" { print $2 }'; }

build() { # profile, features...
    local profile=$1
    shift
    if ! cargo build --quiet --profile "$profile" "$@" 2>build.log; then
        grep -E "undefined (symbol|reference)" build.log || true
        echo "FAIL: cargo build --profile $profile $* did not link: a panic path survives" >&2
        echo "      (full output in tests/no-panic/build.log)" >&2
        exit 1
    fi
    rm -f build.log
}

echo "== no-panic proof: cargo build --release (opt-level 3, lto, codegen-units 1, panic=abort)"
build release
echo "linked: no panic path is reachable from the calls in tests/no-panic/src/main.rs"
# Smoke run on a corpus block (the exit status is a checksum of the results, not a verdict).
head_file=../../fuzz/corpus/parse/fsdax-1G-a2M-off1M.head
if [ -f "$head_file" ]; then
    set +e
    ./target/release/$bin x <"$head_file"
    echo "ran on $(basename "$head_file"): exit status $? (a digest of the results)"
    set -e
fi

echo "== footprint: cargo build --profile release-s (opt-level \"s\"), .text bytes"
declare -A size
for set in none core fletcher model profile compat label btt btt_check probe all; do
    case $set in
        none) build release-s --no-default-features ;;
        all) build release-s ;;
        *) build release-s --no-default-features --features "$set" ;;
    esac
    size[$set]=$(text_bytes "target/release-s/$bin")
done
base=${size[none]}
printf '%-10s %8s %10s  %s\n' set .text library calls
for set in none core fletcher model profile compat label btt btt_check probe all; do
    case $set in
        none) what="bare harness (reads stdin, no library call)" ;;
        core) what="parse + verify + validate::check + solve" ;;
        fletcher) what="nd_fletcher64 (any length) + compute_checksum" ;;
        model) what="PfnInfo::parse, is_canonical, defaulted, emit, to_block" ;;
        profile) what="Profile::x86_64_for_release" ;;
        compat) what="compat::check (16 readers), plan_upgrade, Features::of_block" ;;
        label) what="label: LabelArea::parse, namespaces, add/update/remove/init plans applied" ;;
        btt) what="btt: Btt::open, arenas, map/flog reads, Reader::translate/read_lba, solve, plan, create" ;;
        btt_check) what="btt check: the deep check, repair plan and apply" ;;
        probe) what="probe: nd_pmem_probe's order (BTT, pfn, dax, raw) over any namespace and claim class" ;;
        all) what="every call above" ;;
    esac
    printf '%-10s %8d %10d  %s\n' "$set" "${size[$set]}" $((size[$set] - base)) "$what"
done

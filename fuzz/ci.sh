#!/usr/bin/env bash
# Runs every fuzz target for 30 s (FUZZ_SECONDS to change) from the committed seed corpus,
# as `.ci/run` does. Skips with a message when nightly or cargo-fuzz is missing. A finding
# fails the script (libFuzzer exits non-zero and leaves the input in fuzz/artifacts/<target>/).
#
# The committed corpus is only read: new inputs go to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${FUZZ_SECONDS:-30}
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: skipped (no nightly toolchain; rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: skipped (cargo-fuzz not installed; cargo install cargo-fuzz)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Safe Rust throughout (the library forbids unsafe code), so no sanitizer: -s none.
cargo +nightly fuzz build -s none
for target in parse roundtrip solve check upgrade label_parse label_update btt_parse btt_translate btt_check; do
    case $target in
        parse) max_len=9000 ;;
        solve) max_len=64 ;;
        label_parse) max_len=20000 ;;
        label_update) max_len=200 ;;
        btt_translate) max_len=512 ;;
        btt_parse) max_len=4400 ;;
        btt_check) max_len=512 ;;
        *) max_len=4200 ;;
    esac
    mkdir -p "$work/$target"
    echo "fuzz: $target for ${seconds}s"
    set +e
    cargo +nightly fuzz run -s none "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 2>&1 |
        grep -E "^(#[0-9]+.*DONE|stat::(number_of_executed_units|average_exec_per_sec))|panicked|ERROR|SUMMARY"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/)" >&2
        exit 1
    fi
done
echo "fuzz: all targets ran ${seconds}s without a finding"

#!/usr/bin/env bash
# Stack frame sizes of the library's functions, from LLVM's .stack_sizes section
# (`-Z emit-stack-sizes`, nightly). Prints the functions the no-heap/no-copy claim is about
# and the largest frames overall. Usage: tests/no-panic/stack-sizes.sh (from anywhere).
#
# Command: cargo +nightly rustc --release --lib --target-dir target/stack-sizes \
#            -- -Z emit-stack-sizes --emit=obj -C codegen-units=1
#          llvm-readobj --stack-sizes target/stack-sizes/release/deps/nvdimm_infoblock-*.o
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "skip: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
readobj=$(command -v llvm-readobj || ls /usr/bin/llvm-readobj-* 2>/dev/null | head -n 1 || true)
if [ -z "$readobj" ]; then
    echo "skip: llvm-readobj not found (apt-get install llvm)"
    exit 0
fi

build() {
    cargo +nightly rustc --quiet --release --lib --target-dir target/stack-sizes \
        -- -Z emit-stack-sizes --emit=obj -C codegen-units=1
}
build
if ! ls target/stack-sizes/release/deps/nvdimm_infoblock-*.o >/dev/null 2>&1; then
    touch src/lib.rs # the object was removed while cargo thinks the build is fresh
    build
fi
obj=$(ls -t target/stack-sizes/release/deps/nvdimm_infoblock-*.o | head -n 1)
"$readobj" --stack-sizes "$obj" | python3 -c '
import re, subprocess, sys
text = sys.stdin.read()
rows = []
for m in re.finditer(r"Functions: \[([^\]]*)\]\s*Size: (0x[0-9A-Fa-f]+)", text):
    for name in m.group(1).split(","):
        rows.append((int(m.group(2), 16), name.strip()))
names = subprocess.run(["c++filt"], input="\n".join(n for _, n in rows), capture_output=True,
                       text=True).stdout.splitlines()
rows = [(size, re.sub(r"\[[0-9a-f]{16}\]", "", demangled)) for (size, _), demangled in zip(rows, names)]
watch = ["model::parse", "PfnInfo>::parse", "verify_checksum", "compute_checksum",
         "nd_fletcher64", "State>::feed", "validate::check", "layout::solve",
         "compat::reader::check", "plan_upgrade"]
print("frame bytes  function (the claim: each under 512 bytes, no 4 KiB block copy)")
for size, name in sorted(rows, reverse=True):
    if any(w in name for w in watch):
        print(f"{size:11d}  {name}")
print()
print("largest frames in the library:")
for size, name in sorted(rows, reverse=True)[:8]:
    print(f"{size:11d}  {name}")
'

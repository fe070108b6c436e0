#!/bin/sh
# Action (run.sh -b INFOBLOCK -p -a THIS IMAGE): give the namespace to nd_pmem
# raw (rig-raw), then run the infoblock binary in the guest on the raw block
# device: `inspect` of the info-block, and `check` with the namespace's real
# start and size from sysfs (a block device has no file length, so check
# needs --ns-size). Use -p: the verdict is then the kernel's own, from before
# rig-raw changed the namespace.
raw=$(rig-raw) || exit 1
set -- $raw
dev=$1 start=$2 size=$3
echo "rig-raw: $dev start=$start size=$size"
infoblock inspect "$dev"
echo "inspect rc=$?"
infoblock check "$dev" --ns-start "$start" --ns-size "$size" --json
echo "check rc=$?"

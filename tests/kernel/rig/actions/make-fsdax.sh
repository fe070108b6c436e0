#!/bin/sh
# Action: turn the label-less namespace into fsdax through sysfs, as
# `ndctl create-namespace -f -e namespace0.0 -m fsdax` would: the kernel
# writes the pfn info-block (nd_pfn_init) and nd_pmem enables /dev/pmemN.
# Run with -w on a copy of an image to keep the kernel's block:
#   run.sh -w -a make-fsdax.sh copy.img && run.sh copy.img   # verdict=fsdax
# ALIGN and MODE (pmem: memmap on the device, ram: in RAM) can be edited.
ALIGN=2097152
MODE=pmem
N=/sys/bus/nd/devices
ns=$(rig-ns) || exit 1
region=$(basename "$(readlink -f "$N/$ns/..")")
echo "$ns" >/sys/bus/nd/drivers/nd_pmem/unbind
seed=$(cat "$N/$region/pfn_seed")
cat /proc/sys/kernel/random/uuid >"$N/$seed/uuid"
echo $MODE >"$N/$seed/mode"
echo $ALIGN >"$N/$seed/align"
echo "$ns" >"$N/$seed/namespace"
echo "$seed" >/sys/bus/nd/drivers/nd_pmem/bind || echo "bind $seed failed"
rig-settle
echo "$seed: driver=$(basename "$(readlink "$N/$seed/driver" 2>/dev/null)") size=$(cat "$N/$seed/size") resource=$(cat "$N/$seed/resource")"

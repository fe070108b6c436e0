#!/bin/sh
# Action: turn the label-less namespace into devdax through sysfs (the
# region's dax_seed, bound to the dax_pmem driver of the nd bus): the kernel
# writes the dax info-block and /dev/daxN.M appears.
#   run.sh -w -a make-devdax.sh copy.img && run.sh copy.img  # verdict=devdax
ALIGN=2097152
MODE=pmem
N=/sys/bus/nd/devices
ns=$(rig-ns) || exit 1
region=$(basename "$(readlink -f "$N/$ns/..")")
echo "$ns" >/sys/bus/nd/drivers/nd_pmem/unbind
seed=$(cat "$N/$region/dax_seed")
cat /proc/sys/kernel/random/uuid >"$N/$seed/uuid"
echo $MODE >"$N/$seed/mode"
echo $ALIGN >"$N/$seed/align"
echo "$ns" >"$N/$seed/namespace"
echo "$seed" >/sys/bus/nd/drivers/dax_pmem/bind || echo "bind $seed failed"
rig-settle
echo "$seed: driver=$(basename "$(readlink "$N/$seed/driver" 2>/dev/null)") size=$(cat "$N/$seed/size")"
ls /dev | grep '^dax'

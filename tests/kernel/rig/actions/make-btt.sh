#!/bin/sh
# Action: put a BTT (sector mode) on the label-less namespace through sysfs
# (the region's btt_seed), then write one 4 KiB block through /dev/pmemNs, so
# that the kernel's BTT write path updates a map entry and the flog.
#   run.sh -w -a make-btt.sh copy.img && run.sh copy.img     # verdict=sector
SECTOR_SIZE=4096
N=/sys/bus/nd/devices
ns=$(rig-ns) || exit 1
region=$(basename "$(readlink -f "$N/$ns/..")")
echo "$ns" >/sys/bus/nd/drivers/nd_pmem/unbind
seed=$(cat "$N/$region/btt_seed")
cat /proc/sys/kernel/random/uuid >"$N/$seed/uuid"
echo $SECTOR_SIZE >"$N/$seed/sector_size"
echo "$ns" >"$N/$seed/namespace"
echo "$seed" >/sys/bus/nd/drivers/nd_pmem/bind || echo "bind $seed failed"
rig-settle
echo "$seed: driver=$(basename "$(readlink "$N/$seed/driver" 2>/dev/null)") size=$(cat "$N/$seed/size")"
for b in /sys/block/pmem*s; do
	[ -e "$b" ] || continue
	echo "${b##*/}: $(( $(cat "$b/size") * 512 )) bytes, lbs $(cat "$b/queue/logical_block_size")"
	dd if=/dev/zero bs=4096 count=1 2>/dev/null | tr '\0' 'R' | dd of="/dev/${b##*/}" bs=4096 seek=3 count=1 conv=notrunc 2>&1 | tail -n 1
done

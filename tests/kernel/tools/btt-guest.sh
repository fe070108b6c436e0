# Guest action (busybox sh) for the BTT ground-truth fixtures.
# The generator prepends: UUID SS (sector_size) GENS (generations) and
# LBAS_SPEC (space-separated LBA expressions; N = external LBA count,
# evaluated in the guest) and ONCE_SPEC (LBAs written once, gen 1).
# Sector content: the 16-byte line "L%07dG%06d\n" (LBA, generation)
# repeated to fill the logical block.
nsdir=/sys/bus/nd/devices/namespace0.0
echo namespace0.0 > /sys/bus/nd/drivers/nd_pmem/unbind
seed=$(cat /sys/bus/nd/devices/region0/btt_seed)
echo "seed=$seed"
d=/sys/bus/nd/devices/$seed
echo "$UUID" > $d/uuid
echo "$SS" > $d/sector_size
echo namespace0.0 > $d/namespace
echo "$seed" > /sys/bus/nd/drivers/nd_pmem/bind
echo "bind_rc=$?"
for b in /sys/bus/nd/devices/ndbus*; do cat "$b/wait_probe" >/dev/null 2>&1; done
for a in $(ls $d); do
	[ -f $d/$a ] && [ -r $d/$a ] || continue
	case $a in uevent|modalias) continue ;; esac
	echo "sysfs btt.$a=$(cat $d/$a 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')"
done
for a in size resource mode holder; do
	echo "sysfs ns.$a=$(cat $nsdir/$a 2>/dev/null)"
done
[ -b /dev/pmem0s ] || { echo "no /dev/pmem0s"; exit 0; }
blk=/sys/block/pmem0s
sz=$(cat $blk/size)
lbs=$(cat $blk/queue/logical_block_size)
echo "blk size=$sz lbs=$lbs"
N=$(( sz * 512 / lbs ))
echo "nlba=$N"
LBAS=""
for e in $LBAS_SPEC; do LBAS="$LBAS $(( e ))"; done
ONCE=""
for e in $ONCE_SPEC; do ONCE="$ONCE $(( e ))"; done
echo "lbas=$LBAS once=$ONCE"
ncpu=$(nproc)
echo "ncpu=$ncpu"
# One write = one logical block through the BTT: busybox dd's oflag=direct
# silently falls back to buffered I/O here (unaligned buffer), and the block
# device's default soft block size is 4096, so a buffered 512-byte write would
# make the page cache write the whole 4 KiB page (8 BTT writes). So: keep the
# device open (fd 3) so that its soft block size stays what blockdev --setbsz
# sets (the logical block size), and fsync every write (conv=fsync) so that
# writes of the same LBA are not merged in the page cache. With several CPUs
# the writes rotate over them (taskset), so several lanes (free blocks /
# flog entries) are used: the lane is the CPU that submits the write.
exec 3</dev/pmem0s
blockdev --setbsz $lbs /dev/pmem0s
echo "soft_bsz=$(blockdev --getbsz /dev/pmem0s)"
w() { # lba gen
	cpu=$((nw % ncpu))
	yes "$(printf 'L%07dG%06d' $1 $2)" | head -c $lbs > /tmp/blk
	taskset -c $cpu dd if=/tmp/blk of=/dev/pmem0s bs=$lbs seek=$1 count=1 conv=notrunc,fsync 2>/tmp/dderr || { echo "write-fail lba=$1 gen=$2 $(cat /tmp/dderr)"; }
}
nw=0
for o in $ONCE; do w $o 1; nw=$((nw+1)); done
g=1
while [ $g -le $GENS ]; do
	for l in $LBAS; do w $l $g; nw=$((nw+1)); done
	g=$((g+1))
done
echo "writes=$nw"
sync
for l in $LBAS $ONCE $UNWRITTEN_SPEC; do
	l=$(( l ))
	h=$(dd if=/dev/pmem0s bs=$lbs skip=$l count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
	echo "read lba=$l sha256=$h"
done
echo "action-end"

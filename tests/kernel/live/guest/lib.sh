# Guest helpers of the live cases (busybox sh). live.py writes the action
# script as: variables, this file, then the scenario's guest script.
# Every line the host reads is "key=value" or "key value=..." (NDH-ACTION).
B=/sys/bus/nd/devices
R=$B/region0
settle() { rig-settle; }
ns_by_uuid() { # uuid -> namespace name
	for n in $B/namespace*; do
		[ "$(cat $n/uuid 2>/dev/null)" = "$1" ] && { basename $n; return 0; }
	done
	return 1
}
# mkbtt NS UUID SECTOR_SIZE: a btt device on NS through the region's btt_seed
mkbtt() {
	echo "$1" >/sys/bus/nd/drivers/nd_pmem/unbind || echo "mkbtt_unbind_failed=$1"
	seed=$(cat $R/btt_seed)
	d=$B/$seed
	echo "$2" >$d/uuid
	echo "$3" >$d/sector_size
	echo "$1" >$d/namespace
	echo "$seed" >/sys/bus/nd/drivers/nd_pmem/bind || echo "mkbtt_bind_failed=$seed"
	settle
	echo "btt_dev=$seed"
	echo "btt_size=$(cat $d/size)"
	echo "btt_sector_size=$(cat $d/sector_size)"
}
# blkinfo DEV (pmem0s): sets LBS and NLBA, prints them and the byte size
blkinfo() {
	[ -b /dev/$1 ] || { echo "no_block_device=$1"; return 1; }
	LBS=$(cat /sys/block/$1/queue/logical_block_size)
	NLBA=$(($(cat /sys/block/$1/size) * 512 / LBS))
	echo "blk_bytes=$(($(cat /sys/block/$1/size) * 512))"
	echo "blk_lbs=$LBS"
	echo "blk_nlba=$NLBA"
}
# One write = one BTT block write: the device stays open (fd 3) with its soft
# block size set to the logical block size, and every dd is fsync'd
# (tests/data/kernel/README.md: a buffered 512-byte write becomes 8).
openblk() { # DEV
	exec 3</dev/$1
	blockdev --setbsz $LBS /dev/$1
}
# wsect DEV LBA GEN: the sector holds "L%07dG%06d" + newline, repeated
wsect() {
	yes "$(printf 'L%07dG%06d' $2 $3)" | head -c $LBS >/tmp/blk
	if dd if=/tmp/blk of=/dev/$1 bs=$LBS seek=$2 count=1 conv=notrunc,fsync 2>/tmp/dderr; then
		echo "wrote lba=$2 gen=$3"
	else
		echo "write_failed lba=$2 gen=$3 $(tr '\n' ' ' </tmp/dderr)"
	fi
}
# kread DEV LBA...: what the kernel reads back
kread() {
	dev=$1
	shift
	for l in "$@"; do
		echo "kread lba=$l sha256=$(dd if=/dev/$dev bs=$LBS skip=$l count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
	done
}
# ib TAG ARGS...: run the crate's infoblock; prints TAG.rc, TAG.out (stdout on
# one line; JSON stays JSON) and TAG.err (first stderr line)
ib() {
	tag=$1
	shift
	infoblock "$@" >/tmp/ib.out 2>/tmp/ib.err
	echo "$tag.rc=$?"
	echo "$tag.cmd=infoblock $*"
	echo "$tag.out=$(tr '\n' ' ' </tmp/ib.out)"
	echo "$tag.err=$(head -n 1 /tmp/ib.err)"
}

# Guest helpers (busybox sh) for the label ground-truth scenarios.
B=/sys/bus/nd/devices
R=$B/region0
settle() { for b in $B/ndbus*; do cat "$b/wait_probe" >/dev/null 2>&1; done; }
ns_by_uuid() { # uuid -> namespace name
	for n in $B/namespace*; do
		[ "$(cat $n/uuid 2>/dev/null)" = "$1" ] && { basename $n; return 0; }
	done
	return 1
}
mkns() { # uuid name size
	ns=$(cat $R/namespace_seed); d=$B/$ns
	echo "mkns seed=$ns uuid=$1 name=$2 size=$3"
	echo "$1" > $d/uuid || echo "mkns uuid-write-failed"
	echo "$2" > $d/alt_name || echo "mkns alt_name-write-failed"
	echo "$3" > $d/size || echo "mkns size-write-failed"
	echo "$ns" > /sys/bus/nd/drivers/nd_pmem/bind || echo "mkns bind-failed"
	settle
	echo "mkns done ns=$ns size=$(cat $d/size) resource=$(cat $d/resource) mode=$(cat $d/mode) driver=$(basename "$(readlink $d/driver 2>/dev/null)" 2>/dev/null)"
}
resize() { # uuid newsize
	ns=$(ns_by_uuid $1); d=$B/$ns
	echo "resize ns=$ns from=$(cat $d/size) to=$2"
	echo "$ns" > /sys/bus/nd/drivers/nd_pmem/unbind || echo "resize unbind-failed"
	echo "$2" > $d/size || echo "resize size-write-failed"
	[ "$2" = 0 ] || { echo "$ns" > /sys/bus/nd/drivers/nd_pmem/bind || echo "resize bind-failed"; }
	settle
	echo "resize done ns=$ns size=$(cat $d/size) resource=$(cat $d/resource 2>/dev/null)"
}
mkbtt() { # ns-uuid btt-uuid sector_size
	ns=$(ns_by_uuid $1)
	echo "$ns" > /sys/bus/nd/drivers/nd_pmem/unbind || echo "mkbtt unbind-failed"
	seed=$(cat $R/btt_seed); d=$B/$seed
	echo "mkbtt seed=$seed ns=$ns"
	echo "$2" > $d/uuid; echo "$3" > $d/sector_size; echo "$ns" > $d/namespace
	echo "$seed" > /sys/bus/nd/drivers/nd_pmem/bind || echo "mkbtt bind-failed"
	settle
	echo "mkbtt done size=$(cat $d/size) ns_mode=$(cat $B/$ns/mode) ns_holder=$(cat $B/$ns/holder)"
}
mkpfn() { # ns-uuid pfn-uuid align mode
	ns=$(ns_by_uuid $1)
	echo "$ns" > /sys/bus/nd/drivers/nd_pmem/unbind || echo "mkpfn unbind-failed"
	seed=$(cat $R/pfn_seed); d=$B/$seed
	echo "mkpfn seed=$seed ns=$ns"
	echo "$2" > $d/uuid; echo "$4" > $d/mode; echo "$3" > $d/align; echo "$ns" > $d/namespace
	echo "$seed" > /sys/bus/nd/drivers/nd_pmem/bind || echo "mkpfn bind-failed"
	settle
	echo "mkpfn done size=$(cat $d/size) resource=$(cat $d/resource) align=$(cat $d/align) ns_mode=$(cat $B/$ns/mode)"
}
wsect() { # blockdev lba gen : write one logical block "L%07dG%06d\n"*
	lbs=$(cat /sys/block/$1/queue/logical_block_size)
	yes "$(printf 'L%07dG%06d' $2 $3)" | head -c $lbs > /tmp/blk
	dd if=/tmp/blk of=/dev/$1 bs=$lbs seek=$2 count=1 conv=notrunc,fsync 2>/dev/null || echo "wsect failed $1 $2"
	echo "wsect $1 lba=$2 gen=$3 sha256=$(dd if=/dev/$1 bs=$lbs skip=$2 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
}
show() {
	echo "region set_cookie=$(cat $R/set_cookie 2>/dev/null) size=$(cat $R/size) available_size=$(cat $R/available_size) align=$(cat $R/align 2>/dev/null) namespace_seed=$(cat $R/namespace_seed)"
	for n in $B/namespace*; do
		echo "ns $(basename $n) devtype=$(cat $n/devtype) uuid=$(cat $n/uuid 2>/dev/null) alt_name=$(cat $n/alt_name 2>/dev/null) size=$(cat $n/size) resource=$(cat $n/resource 2>/dev/null) mode=$(cat $n/mode 2>/dev/null) holder=$(cat $n/holder 2>/dev/null)"
	done
}

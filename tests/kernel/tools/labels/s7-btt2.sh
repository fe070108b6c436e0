# BTT with the namespace's claim class set first (holder_class=btt, as ndctl
# does): the kernel then makes a BTT2 (v2.0 at offset 0) and writes the claim
# class into the label's abstraction GUID
mkns 55555555-6666-4777-8888-999999999999 epsilon 67108864
ns=$(ns_by_uuid 55555555-6666-4777-8888-999999999999)
echo "$ns" > /sys/bus/nd/drivers/nd_pmem/unbind || echo "unbind-failed"
echo btt > $B/$ns/holder_class || echo "holder_class-write-failed"
echo "holder_class=$(cat $B/$ns/holder_class)"
echo "$ns" > /sys/bus/nd/drivers/nd_pmem/bind 2>/dev/null
mkbtt 55555555-6666-4777-8888-999999999999 3b773b77-0000-4000-8000-0000000000e5 512
echo "holder_class=$(cat $B/$ns/holder_class)"
show
b=$(basename /sys/block/pmem*.*s 2>/dev/null | tail -1)
for d in /sys/block/pmem*s; do
	[ "$(basename "$(readlink -f $d/device)")" = "$(cat $B/$ns/holder)" ] && b=$(basename $d)
done
echo "btt blk=$b size=$(cat /sys/block/$b/size) lbs=$(cat /sys/block/$b/queue/logical_block_size)"
N=$(( $(cat /sys/block/$b/size) * 512 / $(cat /sys/block/$b/queue/logical_block_size) ))
exec 3</dev/$b
blockdev --setbsz $(cat /sys/block/$b/queue/logical_block_size) /dev/$b
for g in 1 2 3 4 5; do wsect $b 0 $g; wsect $b $((N-1)) $g; done
wsect $b 5 1

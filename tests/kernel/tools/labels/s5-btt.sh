mkns 33333333-4444-4555-8666-777777777777 gamma 67108864
mkbtt 33333333-4444-4555-8666-777777777777 3b773b77-0000-4000-8000-000000000bb2 4096
show
b=$(basename /sys/block/pmem*s)
echo "btt blk=$b size=$(cat /sys/block/$b/size) lbs=$(cat /sys/block/$b/queue/logical_block_size)"
N=$(( $(cat /sys/block/$b/size) * 512 / $(cat /sys/block/$b/queue/logical_block_size) ))
for g in 1 2 3 4 5; do wsect $b 0 $g; wsect $b $((N-1)) $g; done
wsect $b 5 1

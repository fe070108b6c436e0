# Scenario btt-crate and btt-corrupt's second boot (guest): the namespace
# already holds a BTT the kernel attached at probe time; write (WRITES) and
# read back (READS, UNWRITTEN) sectors through /dev/pmem0s, then the crate's
# probe on the namespace (raw view, force_raw back to 0).
# Set by live.py: WRITES ("EXPR:GEN ..."), READS (LBAs), UNWRITTEN (EXPRs), K
blkinfo pmem0s || exit 0
N=$NLBA
openblk pmem0s
LBAS="$READS"
for w in $WRITES; do
	l=$((${w%%:*}))
	wsect pmem0s $l ${w##*:}
	case " $LBAS " in *" $l "*) ;; *) LBAS="$LBAS $l" ;; esac
done
for e in $UNWRITTEN; do LBAS="$LBAS $((e))"; done
exec 3<&-
kread pmem0s $LBAS
echo "rig_raw=$(rig-raw namespace0.0)"
echo 0 >$B/namespace0.0/force_raw
ib g_probe probe namespace0.0 --kernel "$K" --json

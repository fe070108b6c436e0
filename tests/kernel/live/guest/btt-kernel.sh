# Scenario btt-kernel (guest): the kernel makes a BTT on the label-less
# namespace (sysfs btt_seed), writes sectors through /dev/pmem0s, reads them
# back; then the crate's infoblock runs on the same namespace.
# Set by live.py: UUID SS WRITES ("EXPR:GEN ...", EXPR may use N = nlba)
# UNWRITTEN (EXPRs) K (6.1 / 6.12)
mkbtt namespace0.0 "$UUID" "$SS"
blkinfo pmem0s || exit 0
N=$NLBA
openblk pmem0s
LBAS=""
for w in $WRITES; do
	l=$((${w%%:*}))
	wsect pmem0s $l ${w##*:}
	case " $LBAS " in *" $l "*) ;; *) LBAS="$LBAS $l" ;; esac
done
for e in $UNWRITTEN; do LBAS="$LBAS $((e))"; done
exec 3<&-
kread pmem0s $LBAS
# the namespace is claimed: probe says it has no node with its own bytes
ib g_probe_claimed probe namespace0.0 --kernel "$K" --json
# the raw view (rig-raw), then force_raw back to 0 so that probe and check
# see the namespace as the kernel's probe does (nothing is written)
echo "rig_raw=$(rig-raw namespace0.0)"
echo 0 >$B/namespace0.0/force_raw
ib g_probe probe namespace0.0 --kernel "$K" --json
ib g_check check /dev/pmem0 --kernel "$K" --json
ib g_check_ns check /dev/pmem0 --namespace namespace0.0 --kernel "$K" --json
ib g_bttcheck btt check /dev/pmem0 --namespace namespace0.0
for l in $LBAS; do
	echo "gread lba=$l sha256=$(infoblock btt read /dev/pmem0 --namespace namespace0.0 --lba $l 2>/dev/null | sha256sum | cut -d' ' -f1)"
done

# Scenario labels (guest): the namespaces the crate's labels made are probed
# by the crate in the guest, then the kernel adds one namespace and deletes
# another through sysfs (it writes the labels).
# Set by live.py: K, PROBE_UUID (a raw namespace), CLAIMED_UUID (a BTT one),
# NEW_UUID NEW_NAME NEW_SIZE (created), DEL_UUID (deleted)
echo "set_cookie=$(cat $R/set_cookie)"
ns=$(ns_by_uuid "$PROBE_UUID") && ib g_probe probe "$ns" --kernel "$K" --json
ns=$(ns_by_uuid "$CLAIMED_UUID") && ib g_probe_claimed probe "$ns" --kernel "$K" --json
# create: the seed gets uuid, name and size, then nd_pmem binds it
ns=$(cat $R/namespace_seed)
d=$B/$ns
echo "$NEW_UUID" >$d/uuid || echo "create_failed=uuid"
echo "$NEW_NAME" >$d/alt_name || echo "create_failed=alt_name"
echo "$NEW_SIZE" >$d/size || echo "create_failed=size"
echo "$ns" >/sys/bus/nd/drivers/nd_pmem/bind || echo "create_failed=bind"
settle
echo "created=$ns size=$(cat $d/size) resource=$(cat $d/resource)"
# delete: unbind, size 0 (the kernel frees its labels)
ns=$(ns_by_uuid "$DEL_UUID")
echo "$ns" >/sys/bus/nd/drivers/nd_pmem/unbind || echo "delete_failed=unbind"
echo 0 >$B/$ns/size || echo "delete_failed=size"
settle
echo "deleted=$ns size=$(cat $B/$ns/size)"

#!/bin/sh
# /init of the rig's guest (busybox sh, PID 1).
#
# 1. load the libnvdimm stack in the order of /rig/modules, with dynamic debug
#    on, so that libnvdimm logs every "END: drv.probe(dev) = rc";
# 2. let probing settle (ndbusN/wait_probe flushes libnvdimm's async probes;
#    probes that register new devices need another round);
# 3. report the state: "NDH-STATE probe", then NDH-ND / NDH-BLK / NDH-DAX /
#    NDH-IOMEM / NDH-DMESG lines;
# 4. with /action.sh: run it (its output as "NDH-ACTION ..." lines), settle,
#    and report again as "NDH-STATE action" (the dmesg lines of that report
#    are the ones logged since the first report);
# 5. NDH-DONE and power off.
# The host (verdict.py) judges the last state, or the probe state (run.sh -p).
PATH=/bin
export PATH
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp

now() { cut -d' ' -f1 /proc/uptime; }
echo "NDH: guest-begin uptime=$(now) kernel=$(uname -r)"
dmesg_seen=$(dmesg | wc -l)

while read -r m; do
	[ -n "$m" ] || continue
	insmod "/lib/modules/$m.ko" dyndbg=+p 2>&1 | sed 's/^/NDH: insmod-error: /'
done </rig/modules

n=0
while [ ! -e /sys/bus/nd/devices/ndbus0 ] && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
rig-settle
echo "NDH: probe-settled uptime=$(now)"

# one "key=value" per attribute, spaces inside a value turned into commas
attrs() { # DIR ATTR...
	d=$1
	shift
	for a in "$@"; do
		[ -f "$d/$a" ] || continue
		v=$(cat "$d/$a" 2>/dev/null) || continue
		v=$(echo "$v" | tr '\n' ' ' | sed 's/ *$//' | tr ' ' ',')
		printf ' %s=%s' "$a" "${v:-\"\"}"
	done
}
drv_of() { # DIR -> bound driver or "none"
	if [ -e "$1/driver" ]; then basename "$(readlink "$1/driver")"; else echo none; fi
}

report() { # STATE
	echo "NDH-STATE $1 uptime=$(now)"
	for d in /sys/bus/nd/devices/*; do
		[ -e "$d" ] || continue
		echo "NDH-ND dev=${d##*/} driver=$(drv_of "$d")$(attrs "$d" devtype nstype mode \
			size align resource uuid alt_name namespace holder sector_size force_raw \
			numa_node target_node available_size init_namespaces supported_alignments)"
	done
	for d in /sys/block/pmem*; do
		[ -e "$d" ] || continue
		s=$(cat "$d/size")
		echo "NDH-BLK dev=${d##*/} size_sectors=$s bytes=$((s * 512))" \
			"dax=$(cat "$d/queue/dax" 2>/dev/null)" \
			"lbs=$(cat "$d/queue/logical_block_size" 2>/dev/null)" \
			"parent=$(basename "$(readlink -f "$d/device")")"
	done
	for d in /sys/bus/dax/devices/*; do
		[ -e "$d" ] || continue
		line="NDH-DAX dev=${d##*/} driver=$(drv_of "$d")$(attrs "$d" size align resource \
			target_node numa_node)"
		for m in "$d"/mapping*; do
			[ -d "$m" ] || continue
			line="$line ${m##*/}=$(cat "$m/start")-$(cat "$m/end")@$(cat "$m/page_offset")"
		done
		echo "$line"
	done
	grep -iE 'namespace|pfn|dax|pmem|persistent|ndbus|region' /proc/iomem | sed 's/^/NDH-IOMEM /'
	# -r keeps "<level>" so that the host tells errors from debug output
	total=$(dmesg -r | wc -l)
	dmesg -r | tail -n +$((dmesg_seen + 1)) | head -n $((total - dmesg_seen)) | sed 's/^/NDH-DMESG /'
	dmesg_seen=$total
	ls /dev | grep -E '^(pmem|dax)' | sed 's/^/NDH-DEVNODE /'
}

report probe
if [ -f /action.sh ]; then
	echo "NDH: action-begin uptime=$(now)"
	(cd /tmp && sh /action.sh) 2>&1 | sed 's/^/NDH-ACTION /'
	rig-settle
	echo "NDH: action-end uptime=$(now)"
	report action
fi
echo "NDH: guest-end uptime=$(now)"
echo "NDH-DONE"
sync
poweroff -f
sleep 10

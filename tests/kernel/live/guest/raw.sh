# Scenario btt-corrupt, first boot (guest): the kernel left the namespace raw;
# the crate's probe and check on it, through sysfs and /dev/pmem0.
# Set by live.py: K
ib g_probe probe namespace0.0 --kernel "$K" --json
ib g_check check /dev/pmem0 --kernel "$K" --json

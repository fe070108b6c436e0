#!/bin/sh
# run.sh - boot real Linux kernels on namespace images and print libnvdimm's
# verdict (NDH-VERDICT / NDH-JSON / NDH-REASON / NDH-NOTE / NDH-ACTION lines).
# The driver is rig.py beside this file; `run.sh -h` prints the options.
exec python3 "$(dirname "$0")/rig.py" "$@"

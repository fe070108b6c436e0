#!/usr/bin/env bash
# setup.sh - fill the kernel rig's cache: qemu-system-x86_64 (Debian's, with
# its firmware and the libraries the host lacks), a static busybox for the
# guest, and one or more Debian kernels, each reduced to its vmlinuz, config
# and the six libnvdimm/dax modules.
#
# usage: tests/kernel/rig/setup.sh [--suite SUITE]... [--no-default] [--force]
#   (no options)    qemu + busybox, the kernel linux-image-amd64 points at in
#                   the host's apt sources (Debian bookworm: 6.1), and the
#                   kernel of <codename>-backports (bookworm-backports: 6.12)
#   --suite SUITE   take the extra kernel(s) from these suites instead of
#                   <codename>-backports (repeatable; "--suite none": none)
#   --no-default    skip the kernel of the host's own sources
#   --force         fetch again what the cache already holds
#
# Nothing is installed on the system: packages are fetched with
# `apt-get download` and unpacked with `dpkg-deb` into the cache. (Installing
# qemu-system-x86 with apt on bookworm would pull qemu 7.2 and remove a
# backports qemu-utils.) Kernels of other suites come through a private apt
# state directory; the host's apt configuration is only read.
# Needs: apt-get, apt-cache, dpkg-deb, tar, xz (and zstd for zstd modules);
#        `apt-get update` done once for the host's own sources.
# Cache: $RIG_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/nvdimm-infoblock-rig
#   qemu/usr/{bin,lib,share}/...   qemu-system-x86_64 in its Debian tree shape
#   busybox                        static busybox (the guest's userland)
#   kernels/RELEASE/{vmlinuz,config,release,package,suite,modules/*.ko}
#   kernels/default -> RELEASE     the kernel run.sh boots without -K
# Env: RIG_KERNEL_PKG (kernel package for the host's sources instead of what
#      linux-image-amd64 depends on), RIG_EXTRA_DEBS (more packages for qemu
#      if the ldd check names a missing library).
set -euo pipefail

CACHE=${RIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvdimm-infoblock-rig}
# module paths inside lib/modules/RELEASE/kernel, in the order the guest loads them
MODULES=(drivers/nvdimm/libnvdimm drivers/nvdimm/nd_btt drivers/nvdimm/nd_pmem
	drivers/dax/device_dax drivers/dax/dax_pmem drivers/acpi/nfit/nfit)
# qemu and the runtime libraries a Debian bookworm build host does not have
QEMU_PKGS=(qemu-system-x86 qemu-system-common qemu-system-data seabios
	libcapstone4 libfdt1 libpmem1 libndctl6 libdaxctl1 librdmacm1 libibverbs1
	libslirp0 libvdeplug2 libnl-3-200 libnl-route-3-200)

say() { echo "rig-setup: $*"; }
die() { echo "rig-setup: error: $*" >&2; exit 1; }

suites=() default=1 force=0 suites_given=0
while [ $# -gt 0 ]; do
	case $1 in
	--suite) suites_given=1; [ "${2:?--suite needs a name}" = none ] || suites+=("$2"); shift ;;
	--no-default) default=0 ;;
	--force) force=1 ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
for t in apt-get apt-cache dpkg-deb tar xz; do
	command -v "$t" >/dev/null || die "$t not found (the rig needs a Debian host)"
done
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ $suites_given = 0 ]; then
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release: name the suites with --suite"
	suites=("$codename-backports")
fi

t_start=$(date +%s)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rig-setup.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$CACHE/kernels"
# apt runs its downloads as _apt unless told otherwise; the scratch
# directory belongs to us
APT_BASE=(-q -o APT::Sandbox::User=root)

# fetch DIR APT_OPTS... -- PKG...: apt-get download into DIR
fetch() {
	local dir=$1; shift
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${opts[@]}" download "$@" >/dev/null) ||
		die "apt-get download $* failed"
	du -sb "$dir" | awk -v p="$*" '{ printf "rig-setup: fetched %.1f MB: %s\n", $1 / 1e6, p }'
}

# the private apt options for SUITE of the host's main Debian mirror
suite_apt() {
	local suite=$1 d="$scratch/apt-$1" uri keyring=""
	uri=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 2>/dev/null |
		grep -v -- '-security' | grep -i debian | head -n 1)
	[ -n "$uri" ] || die "cannot find the Debian mirror in the host's apt sources"
	[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] &&
		keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	echo "deb ${keyring}$uri $suite main" >"$d/sources.list"
	SUITE_APT=("${APT_BASE[@]}" -o Dir::Etc::SourceList="$d/sources.list"
		-o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$d/lists"
		-o Dir::Cache="$d/cache")
	apt-get "${SUITE_APT[@]}" update >/dev/null 2>&1 || die "apt-get update of $suite failed"
}

# the kernel package that linux-image-amd64 depends on
kernel_pkg() {
	apt-cache "$@" depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# add_kernel PKG SUITE APT_OPTS...: fetch PKG, keep vmlinuz, config and the modules
add_kernel() {
	local pkg=$1 suite=$2; shift 2
	local have
	for have in "$CACHE"/kernels/*/package; do
		if [ -f "$have" ] && [ "$(cat "$have")" = "$pkg" ] && [ $force = 0 ]; then
			say "kernel $pkg already cached ($(dirname "$have"))"
			KERNEL_DIR=$(dirname "$have")
			return
		fi
	done
	local d="$scratch/k-$pkg" deb rel kd m src
	fetch "$d" "$@" -- "$pkg"
	deb=$(ls "$d"/*.deb)
	# only the files the rig needs: the whole module tree is ~0.5 GB
	mkdir -p "$d/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$d/x" --wildcards \
		'./boot/vmlinuz-*' './boot/config-*' \
		'./lib/modules/*/kernel/drivers/nvdimm/*' './lib/modules/*/kernel/drivers/dax/*' \
		'./lib/modules/*/kernel/drivers/acpi/nfit/*' 2>/dev/null ||
		die "$pkg: cannot unpack (no vmlinuz or modules?)"
	rel=$(ls "$d/x/lib/modules")
	[ "$(echo "$rel" | wc -w)" = 1 ] || die "$pkg: expected one module tree, found: $rel"
	kd="$scratch/kernel-$rel"
	mkdir -p "$kd/modules"
	cp "$d/x/boot/vmlinuz-$rel" "$kd/vmlinuz"
	cp "$d/x/boot/config-$rel" "$kd/config"
	for m in "${MODULES[@]}"; do
		src=$(ls "$d/x/lib/modules/$rel/kernel/$m".ko* 2>/dev/null | head -n 1)
		[ -n "$src" ] || die "$pkg has no module $m"
		# busybox insmod takes plain ELF modules only
		case $src in
		*.ko) cat "$src" ;;
		*.ko.xz) xz -dc "$src" ;;
		*.ko.gz) gzip -dc "$src" ;;
		*.ko.zst) zstd -qdc "$src" ;;
		*) die "unknown module compression: $src" ;;
		esac >"$kd/modules/${m##*/}.ko"
	done
	echo "$rel" >"$kd/release"
	echo "$pkg" >"$kd/package"
	echo "$suite" >"$kd/suite"
	rm -rf "$CACHE/kernels/$rel"
	mv "$kd" "$CACHE/kernels/$rel"
	say "kernel $rel ($pkg, $suite): $(du -sm "$CACHE/kernels/$rel" | cut -f1) MB"
	KERNEL_DIR="$CACHE/kernels/$rel"
}

# 1. qemu + busybox, from the host's own sources
if [ $force = 1 ] || [ ! -x "$CACHE/qemu/usr/bin/qemu-system-x86_64" ] || [ ! -x "$CACHE/busybox" ]; then
	d="$scratch/tools"
	# shellcheck disable=SC2086
	fetch "$d" "${APT_BASE[@]}" -- busybox-static "${QEMU_PKGS[@]}" ${RIG_EXTRA_DEBS:-}
	mkdir -p "$d/x"
	for deb in "$d"/*.deb; do dpkg-deb -x "$deb" "$d/x"; done
	rm -rf "$CACHE/qemu" "$CACHE/busybox"
	q="$CACHE/qemu"
	# keep the tree shape: qemu loads accel/ui modules from
	# ../lib/x86_64-linux-gnu/qemu relative to its binary
	mkdir -p "$q/usr/bin" "$q/usr/share"
	cp "$d/x/usr/bin/qemu-system-x86_64" "$q/usr/bin/"
	cp -a "$d/x/usr/lib" "$q/usr/"
	[ ! -d "$d/x/lib" ] || cp -a "$d/x/lib" "$q/"
	cp -a "$d/x/usr/share/qemu" "$d/x/usr/share/seabios" "$q/usr/share/"
	cp "$d/x/bin/busybox" "$CACHE/busybox"
	export LD_LIBRARY_PATH="$q/usr/lib/x86_64-linux-gnu:$q/lib/x86_64-linux-gnu"
	missing=$(ldd "$q/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }' | tr '\n' ' ')
	[ -z "$missing" ] || die "qemu lacks: $missing(name their packages in RIG_EXTRA_DEBS)"
	say "$("$q/usr/bin/qemu-system-x86_64" --version | head -n 1)"
else
	say "qemu and busybox already cached"
fi

# 2. kernels
if [ $default = 1 ]; then
	pkg=${RIG_KERNEL_PKG:-$(kernel_pkg "${APT_BASE[@]}")}
	[ -n "$pkg" ] || die "linux-image-amd64 is unknown to apt: run 'apt-get update' first"
	add_kernel "$pkg" "${codename:-host}" "${APT_BASE[@]}"
	ln -sfn "$(basename "$KERNEL_DIR")" "$CACHE/kernels/default"
fi
for s in "${suites[@]}"; do
	suite_apt "$s"
	pkg=$(kernel_pkg "${SUITE_APT[@]}")
	[ -n "$pkg" ] || die "no linux-image-amd64 in $s"
	add_kernel "$pkg" "$s" "${SUITE_APT[@]}"
	[ -e "$CACHE/kernels/default" ] || ln -sfn "$(basename "$KERNEL_DIR")" "$CACHE/kernels/default"
done

say "cache $CACHE: $(du -sm "$CACHE" | cut -f1) MB; default kernel $(readlink "$CACHE/kernels/default");" \
	"kernels: $(cd "$CACHE/kernels" && ls | grep -vx default | tr '\n' ' ')($(( $(date +%s) - t_start )) s)"

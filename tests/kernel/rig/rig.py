#!/usr/bin/env python3
"""The kernel rig's driver (run.sh runs it; Python 3 standard library only).

    run.sh [-J] [-K all|REL[,REL...]] [-v] [-k LOGDIR] [-w] [-a SCRIPT] [-L SIZE]
           [-b BINARY] [-p] IMAGE...

Boots a Debian kernel under qemu (TCG) once per IMAGE and kernel, with IMAGE
as the whole content of one NVDIMM at physical 0x100000000, and prints what
libnvdimm made of it (verdict.py): NDH-VERDICT, NDH-REASON, NDH-NOTE lines,
with -J an NDH-JSON line, and the output of an action script as NDH-ACTION
lines.

  -J          also print one NDH-JSON line per boot
  -K KERNELS  "all" (every kernel in the cache), or a comma-separated list of
              kernel releases or release prefixes (6.12 = 6.12.95+deb12-amd64);
              default: the cache's default kernel
  -v          also print the guest's raw report lines (NDH-ND, NDH-DMESG, ...)
  -k LOGDIR   keep each console log as LOGDIR/IMAGE.RELEASE.console.log
  -w          share=on: the guest's writes reach IMAGE (one write-back per
              kernel; use a copy). Default share=off: the image is mapped
              MAP_PRIVATE and the file never changes
  -a SCRIPT   busybox sh script run in the guest as /action.sh after probing
              settles; the report after it is judged (see -p)
  -L SIZE     the NVDIMM gets a label area of SIZE (>= 128K), which qemu keeps
              in the last SIZE bytes of IMAGE; the pmem is the rest
  -b BINARY   copy BINARY (statically linked) into the guest as /bin/infoblock
  -p          judge the state after probing, before the action script
              (the action may change it, e.g. rig-raw)
Env: RIG_CACHE (see setup.sh), RIG_TIMEOUT (seconds per boot, default 180),
     RIG_MEM (guest RAM, default 512M; keep it <= 2G so the NVDIMM stays at
     4 GiB), RIG_QEMU_ARGS (extra qemu arguments, split on spaces).
Exit: 0 when every boot gave a verdict, 2 when one did not (verdict=error),
      1 on a usage error.
"""
import argparse
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import verdict  # noqa: E402  (beside this file)

CACHE = os.environ.get("RIG_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "nvdimm-infoblock-rig")
MODULE_ORDER = ("libnvdimm", "nd_btt", "nd_pmem", "device_dax", "dax_pmem", "nfit")
GUEST_TOOLS = ("rig-settle", "rig-ns", "rig-raw")
MiB = 1 << 20


def fail(msg, code=1):
    print("run.sh: " + msg, file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------- initramfs


class Cpio:
    """A gzip'd newc cpio archive, written in memory (what the kernel unpacks
    as its initramfs)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b""):
        name_b = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
        self.ino += 1
        self.buf.write(b"070701" + b"".join(b"%08X" % v for v in fields) + name_b)
        self._pad()
        self.buf.write(data)
        self._pad()

    def _pad(self):
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def directory(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def gz(self):
        self._entry("TRAILER!!!", 0)
        return gzip.compress(self.buf.getvalue(), compresslevel=1)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def is_static_elf(data):
    """True for an ELF executable without a PT_INTERP (program interpreter)."""
    if data[:6] != b"\x7fELF\x02\x01":
        return False  # not a 64-bit little-endian ELF
    try:
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        for i in range(phnum):
            p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
            if p_type == 3:  # PT_INTERP
                return False
    except struct.error:
        return False  # truncated
    return True


def initramfs(kdir, action, binary):
    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "rig"):
        c.directory(d)
    c.file("bin/busybox", read(os.path.join(CACHE, "busybox")), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("init", read(os.path.join(HERE, "guest", "init.sh")), 0o755)
    for t in GUEST_TOOLS:
        c.file("bin/" + t, read(os.path.join(HERE, "guest", t)), 0o755)
    for m in MODULE_ORDER:
        c.file("lib/modules/%s.ko" % m, read(os.path.join(kdir, "modules", m + ".ko")))
    c.file("rig/modules", ("\n".join(MODULE_ORDER) + "\n").encode())
    if action:
        c.file("action.sh", read(action), 0o755)
    if binary:
        c.file("bin/infoblock", binary, 0o755)
    return c.gz()


# ---------------------------------------------------------------- kernels


def kernels(spec):
    kroot = os.path.join(CACHE, "kernels")
    have = sorted(k for k in os.listdir(kroot)
                  if k != "default" and os.path.isfile(os.path.join(kroot, k, "vmlinuz")))
    if spec == "default":
        return [os.path.basename(os.path.realpath(os.path.join(kroot, "default")))]
    if spec == "all":
        return have
    out = []
    for want in spec.split(","):
        if not want:
            continue
        if want in have:
            out.append(want)
            continue
        # a release prefix: "6.12" -> "6.12.95+deb12-amd64" (not "6.1" -> "6.12...")
        hits = [k for k in have if k.startswith(want) and not k[len(want)].isdigit()]
        if len(hits) != 1:
            fail("no single kernel %s in %s (have: %s)" % (want, kroot, " ".join(have)))
        out.append(hits[0])
    return out


def mib(text):
    t = text.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    return (int(t[:-1]) if t[-1:] in "KMG" else int(t)) * mult // MiB


# ---------------------------------------------------------------- boot


def boot(img, size, kdir, initrd, share, label, log_path, timeout):
    q = os.path.join(CACHE, "qemu")
    env = dict(os.environ)
    libs = [os.path.join(q, "usr/lib/x86_64-linux-gnu"), os.path.join(q, "lib/x86_64-linux-gnu")]
    env["LD_LIBRARY_PATH"] = ":".join(libs + ([env["LD_LIBRARY_PATH"]]
                                              if env.get("LD_LIBRARY_PATH") else []))
    mem = os.environ.get("RIG_MEM", "512M")
    # the NVDIMM lives in qemu's device-memory window: room for RAM, the
    # image, and the 1 GiB alignment of each slot
    maxmem = "%dM" % (mib(mem) + size // MiB + 2048)
    nvdimm = "nvdimm,id=nv0,memdev=pm0" + (",label-size=%s" % label if label else "")
    cmd = [os.path.join(q, "usr/bin/qemu-system-x86_64"),
           "-L", os.path.join(q, "usr/share/qemu"), "-L", os.path.join(q, "usr/share/seabios"),
           # nested KVM is unusable on the build machines: TCG; -cpu max gives
           # the guest pdpe1gb (1 GiB devdax alignment)
           "-machine", "pc,nvdimm=on", "-accel", "tcg", "-cpu", "max", "-smp", "1",
           "-m", "%s,slots=2,maxmem=%s" % (mem, maxmem),
           # share=off: MAP_PRIVATE, the guest's writes stay in qemu;
           # reserve=off: MAP_NORESERVE, images larger than RAM map
           "-object", "memory-backend-file,id=pm0,share=%s,reserve=off,mem-path=%s,size=%d"
           % (share, img, size),
           "-device", nvdimm,
           "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
           "-serial", "stdio", "-no-reboot",
           "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initrd,
           "-append", "console=ttyS0 quiet panic=-1"]
    cmd += os.environ.get("RIG_QEMU_ARGS", "").split()
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, env=env, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = 124
    return rc, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(prog="run.sh", add_help=False, usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("-J", dest="json", action="store_true")
    ap.add_argument("-K", dest="kernels", default="default")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("-k", dest="keep")
    ap.add_argument("-w", dest="write", action="store_true")
    ap.add_argument("-a", dest="action")
    ap.add_argument("-L", dest="label")
    ap.add_argument("-b", dest="binary")
    ap.add_argument("-p", dest="probe_state", action="store_true")
    ap.add_argument("-h", "--help", action="store_true")
    ap.add_argument("images", nargs="*")
    a = ap.parse_args()
    if a.help:
        print(__doc__)
        return 0
    if not a.images:
        ap.print_usage(sys.stderr)
        return 1
    if not (os.path.isfile(os.path.join(CACHE, "kernels", "default", "vmlinuz"))
            and os.access(os.path.join(CACHE, "qemu/usr/bin/qemu-system-x86_64"), os.X_OK)):
        fail("nothing in %s: run %s first" % (CACHE, os.path.join(HERE, "setup.sh")))
    if a.action and not os.access(a.action, os.R_OK):
        fail("cannot read action script %s" % a.action)
    binary = None
    if a.binary:
        try:
            binary = read(a.binary)
        except OSError as e:
            fail("cannot read %s: %s" % (a.binary, e))
        if not is_static_elf(binary):
            fail("%s is not a statically linked x86_64 ELF (the guest has no libc): build it "
                 "with tests/kernel/rig/build-static.sh" % a.binary)
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    timeout = float(os.environ.get("RIG_TIMEOUT", "180"))
    klist = kernels(a.kernels)
    status = 0
    with tempfile.TemporaryDirectory(prefix="rig.") as tmp:
        initrds = {}
        for k in klist:
            initrds[k] = os.path.join(tmp, "initrd-%s.gz" % k)
            with open(initrds[k], "wb") as f:
                f.write(initramfs(os.path.join(CACHE, "kernels", k), a.action, binary))
        n = 0
        for img in a.images:
            name = os.path.basename(img)
            try:
                size = os.stat(img).st_size
            except OSError:
                size = 0
            for k in klist:
                n += 1
                if size < 2 * MiB or size % 4096:
                    print("NDH-VERDICT image=%s verdict=error error=image-size-must-be-a-4KiB-"
                          "multiple-of-at-least-2MiB size=%d kernel=%s" % (name, size, k))
                    status = 2
                    continue
                log = os.path.join(tmp, "%d.console.log" % n)
                rc, secs = boot(os.path.abspath(img), size, os.path.join(CACHE, "kernels", k),
                                initrds[k], "on" if a.write else "off", a.label, log, timeout)
                if a.keep:
                    shutil.copyfile(log, os.path.join(a.keep, "%s.%s.console.log" % (name, k)))
                with open(log, "rb") as f:
                    lines = [r.decode("utf-8", "replace").rstrip("\r\n") for r in f]
                if a.verbose:
                    for line in lines:
                        if line.startswith("NDH") and not line.startswith(("NDH-VERDICT",
                                                                           "NDH-ACTION")):
                            print(line)
                out, bad = verdict.render(lines, name, k, "%.1f" % secs, rc,
                                          "probe" if a.probe_state else "last", a.json)
                # the action's output, as the guest printed it
                out += [line for line in lines if line.startswith("NDH-ACTION ")]
                print("\n".join(out), flush=True)
                if bad:
                    status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())

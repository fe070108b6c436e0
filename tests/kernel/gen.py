#!/usr/bin/env python3
"""Generate the kernel test suite: cases/NAME.head and suite.json.

Each case is a namespace "head" of exactly 8192 bytes (bytes 0..4096 zero, the
nd_pfn / nd_dax info-block at 4096..8192) plus a namespace size.  run-suite.sh
turns every case into a sparse image of that size (head at offset 0) and asks
the kernel harness what Linux does with it.

Python 3 standard library only; the output is deterministic (fixed uuids derived
from the case name, no timestamps), so re-running this script reproduces the
committed files byte for byte.

    python3 gen.py            # self-test, then (re)write cases/ and suite.json
    python3 gen.py --self-test
    python3 gen.py --verify   # self-test, then check cases/ and suite.json are current

The checksum is our own implementation of the kernel's nd_fletcher64 (see
FORMAT.md section 2): 32-bit little-endian words, a 32-bit wrapping low sum, a
high sum of the low sums, result = ((hi << 32) mod 2^64) | lo, over all 4096
bytes with the checksum field (bytes 4088..4096) taken as zero.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import uuid as uuidlib

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
SUITE_JSON = os.path.join(HERE, "suite.json")

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
NS_START = 0x100000000  # where the harness puts the label-less namespace
PAGE = 4096
RESERVE = 8 * KiB  # info-block reserve (nd_info_block_reserve on 4 KiB pages)
COMPAT = 2 * MiB  # memremap_compat_align() on x86_64
BLOCK = 4096
HEAD = 8192

PFN_SIG = b"NVDIMM_PFN_INFO\0"
DAX_SIG = b"NVDIMM_DAX_INFO\0"
MODE_RAM = 1  # map=mem
MODE_PMEM = 2  # map=dev

# (name, offset, struct format) of every named field, little-endian
FIELDS = [
    ("signature", 0, "16s"),
    ("uuid", 16, "16s"),
    ("parent_uuid", 32, "16s"),
    ("flags", 48, "<I"),
    ("version_major", 52, "<H"),
    ("version_minor", 54, "<H"),
    ("dataoff", 56, "<Q"),
    ("npfns", 64, "<Q"),
    ("mode", 72, "<I"),
    ("start_pad", 76, "<I"),
    ("end_trunc", 80, "<I"),
    ("align", 84, "<I"),
    ("page_size", 88, "<I"),
    ("page_struct_size", 92, "<H"),
]
CHECKSUM_OFF = 4088


# --------------------------------------------------------------------------
# checksum


def nd_fletcher64(buf):
    """The kernel's nd_fletcher64(buf, len, le=1): NOT textbook Fletcher."""
    lo = 0
    hi = 0
    for (w,) in struct.iter_unpack("<I", buf[: len(buf) // 4 * 4]):
        lo = (lo + w) & 0xFFFFFFFF
        hi += lo
    return ((hi << 32) & 0xFFFFFFFFFFFFFFFF) | lo


def sb_checksum(block):
    """nd_sb_checksum: fletcher64 over 4096 bytes with bytes 4088..4096 zero."""
    assert len(block) == BLOCK
    b = bytearray(block)
    b[CHECKSUM_OFF:BLOCK] = bytes(8)
    return nd_fletcher64(bytes(b))


# --------------------------------------------------------------------------
# block builder


def build_block(f):
    """f: dict of field values (see FIELDS) plus optional 'patches' (list of
    (offset, bytes)) and 'checksum' ("good", "bad" or an int).  Returns
    (4096-byte block, checksum actually stored, whether it is valid)."""
    b = bytearray(BLOCK)
    for name, off, fmt in FIELDS:
        v = f[name]
        if fmt == "16s":
            assert isinstance(v, (bytes, bytearray)) and len(v) == 16, name
        struct.pack_into(fmt, b, off, v)
    for off, data in f.get("patches", []):
        b[off : off + len(data)] = data
    good = sb_checksum(bytes(b))
    ck = f.get("checksum", "good")
    if ck == "good":
        stored = good
    elif ck == "bad":
        stored = good ^ 1
    elif ck == "none":
        stored = 0
    else:
        stored = int(ck)
    struct.pack_into("<Q", b, CHECKSUM_OFF, stored)
    return bytes(b), stored, stored == good


def align_up(x, a):
    return (x + a - 1) // a * a


def align_down(x, a):
    return x // a * a


def kstyle(size, align=2 * MiB, mode=MODE_PMEM, start=NS_START):
    """The v5.7+ nd_pfn_init layout (FORMAT.md section 4.6) for x86_64/4K:
    returns dict(dataoff, npfns, end_trunc)."""
    a = max(align, COMPAT)
    npfns0 = (size - RESERVE) // PAGE
    end_trunc = (start + size) - align_down(start + size, a)
    if mode == MODE_PMEM:
        dataoff = align_up(start + RESERVE + 64 * npfns0, a) - start
    else:
        dataoff = align_up(start + RESERVE, a) - start
    npfns = (size - dataoff - end_trunc) // PAGE
    return {"dataoff": dataoff, "npfns": npfns, "end_trunc": end_trunc}


def case_uuid(name):
    return uuidlib.uuid5(uuidlib.NAMESPACE_URL, "nvdimm-infoblock/tests/kernel/" + name).bytes


def base_fields(name, size, sig=PFN_SIG, align=2 * MiB, mode=MODE_PMEM):
    """A kernel-style valid v1.4 block for a namespace of `size` bytes."""
    k = kstyle(size, align, mode)
    return {
        "signature": sig,
        "uuid": case_uuid(name),
        "parent_uuid": bytes(16),
        "flags": 0,
        "version_major": 1,
        "version_minor": 4,
        "dataoff": k["dataoff"],
        "npfns": k["npfns"],
        "mode": mode,
        "start_pad": 0,
        "end_trunc": k["end_trunc"],
        "align": align,
        "page_size": PAGE,
        "page_struct_size": 64,
    }


# --------------------------------------------------------------------------
# the cases

CASES = []


def case(name, size, rule, desc, predict, sig=PFN_SIG, align=2 * MiB, mode=MODE_PMEM,
         empty=False, guest_cmd=None, guest_raw=True, **over):
    """predict: what FORMAT.md / the harness README lead us to expect, as
    "fsdax", "devdax", "raw", "rejected/validate", "rejected/enable" or a dict
    {"6.1": ..., "6.12": ...}.  Only a hint for spotting surprises: the
    recorded kernel answers are the truth.
    guest_cmd: busybox sh text the rig runs in the booted guest (run-suite.sh,
    "In-guest commands"); guest_raw=False: without rig-raw first."""
    assert all(c["name"] != name for c in CASES), name
    assert size % 4096 == 0 and 2 * MiB <= size <= 4 * GiB, (name, size)
    f = base_fields(name, size, sig, align, mode)
    f.update(over)
    if isinstance(predict, str):
        predict = {"6.1": predict, "6.12": predict}
    CASES.append({"name": name, "ns_size": size, "rule": rule, "description": desc,
                  "predict": predict, "fields": f, "empty": empty,
                  "guest_cmd": guest_cmd, "guest_raw": guest_raw})


def define_cases():
    M = MiB
    S = 256 * M  # default namespace size

    # ---- kernel-style valid blocks (FORMAT.md 4.6 layout, 1.2 fields) ----
    case("fsdax-dev-2m", S, "§3.7 (all checks pass); §4.6 layout",
         "kernel-style v1.4 fsdax, map=dev, align 2M (dataoff 6M)", "fsdax")
    case("fsdax-mem-2m", S, "§3.7; §4.6 RAM layout",
         "kernel-style v1.4 fsdax, map=mem, align 2M (dataoff 2M)", "fsdax", mode=MODE_RAM)
    case("devdax-dev-2m", S, "§3.7; §6.1",
         "kernel-style v1.4 devdax, map=dev, align 2M", "devdax", sig=DAX_SIG)
    case("devdax-mem-2m", S, "§3.7; §6.1 (devdax with map=mem)",
         "kernel-style v1.4 devdax, map=mem, align 2M", "devdax", sig=DAX_SIG, mode=MODE_RAM)
    case("fsdax-dev-4k", S, "§3.7 step 12 not applied to PFN; §4.6 (stored align = requested)",
         "fsdax align 4K (layout uses 2M, stored align 4096)", "fsdax", align=4 * KiB)
    case("devdax-dev-4k", S, "§3.7 step 12 (4K is a supported devdax align)",
         "devdax align 4K", "devdax", sig=DAX_SIG, align=4 * KiB)
    case("fsdax-dev-64k", S, "§3.7 step 12 applies only to DAX_SIG",
         "fsdax align 64K: not a supported mapping size but fsdax does not check",
         "fsdax", align=64 * KiB)
    case("devdax-dev-64k", S, "§3.7 step 12 (alignment mismatch)",
         "devdax align 64K: not in supported_alignments", "rejected/validate",
         sig=DAX_SIG, align=64 * KiB)
    case("devdax-dev-1g", 2 * GiB, "§3.7 step 12 (1G supported with pdpe1gb); §6.1",
         "devdax align 1G on a 2 GiB image (dataoff 1G, 1 GiB device)", "devdax",
         sig=DAX_SIG, align=GiB)
    case("fsdax-dev-1g", 2 * GiB, "§3.7; §4.6",
         "fsdax align 1G on a 2 GiB image (dataoff 1G)", "fsdax", align=GiB)
    case("fsdax-dev-2g", 4 * GiB, "§3.7 steps 9,14,16 (largest u32 power of two)",
         "fsdax align 2G (0x80000000) on a 4 GiB image, dataoff 2G", "fsdax", align=2 * GiB)
    case("devdax-1g-size-not-1g-multiple", 2 * GiB + 512 * M,
         "§6.1 / §3.7 (end only needs 2M alignment); dax region alignment",
         "devdax align 1G, 2.5 GiB image: dataoff 1G, device 1.5 GiB is not a multiple of 1G",
         "rejected/enable", sig=DAX_SIG, align=GiB, dataoff=GiB,
         npfns=(2 * GiB + 512 * M - GiB) // PAGE, end_trunc=0)
    case("fsdax-16m-dev", 16 * M, "§4.6 (ndctl corpus fsdax-16M-a2M); §7.10 (16 MiB claim minimum)",
         "16 MiB fsdax map=dev, dataoff 2M", "fsdax")
    case("fsdax-4m-dev", 4 * M, "§7.10 (16 MiB minimum is for sysfs claim, not probe?)",
         "4 MiB fsdax map=dev, dataoff 2M (ndctl corpus fsdax-4M-a2M)", "fsdax")
    case("fsdax-2m-mem-8k", 2 * M, "§5.1 (RAM reserve 8K); tiny namespace",
         "2 MiB image, map=mem, align 4K, dataoff 8K: device of 2M-8K", "fsdax",
         mode=MODE_RAM, align=4 * KiB, dataoff=8 * KiB, npfns=(2 * M - 8 * KiB) // PAGE)
    case("vectorA-parent-nonzero", GiB, "§2.3 vector A; §3.7 step 6",
         "FORMAT.md vector A as is (parent_uuid 10..1f): silently ignored on a label-less ns",
         "raw", uuid=bytes(range(16)), parent_uuid=bytes(range(16, 32)))
    case("vectorA-parent0", GiB, "§2.3 vector A with parent_uuid zeroed",
         "vector A fields (1 GiB, dataoff 18M, npfns 0x3ee00) with a zero parent_uuid",
         "fsdax", uuid=bytes(range(16)))
    case("vectorC-parent0", GiB, "§2.3 vector C with parent_uuid zeroed",
         "vector C (DAX) with a zero parent_uuid", "devdax", sig=DAX_SIG, uuid=bytes(range(16)))
    case("vectorD-parent0", GiB, "§2.3 vector D; §5.1-5.2 legacy start_pad",
         "vector D (v1.2, start_pad 64M, dataoff 18M, map=dev) with a zero parent_uuid",
         "fsdax", uuid=bytes(range(16)), version_minor=2, dataoff=0x1200000,
         npfns=0x3AE00, start_pad=0x4000000, end_trunc=0, page_size=0, page_struct_size=0)

    # ---- align 0 (derived from dataoff) ----
    case("fsdax-align0-8m", S, "§3.7 step 9 (align 0 -> 1<<ilog2(dataoff))",
         "v1.4 align 0, dataoff 8M (power of two): derived align 8M", "fsdax",
         align=0, dataoff=8 * M, npfns=(S - 8 * M) // PAGE)
    case("fsdax-align0-6m", S, "§3.7 steps 9,16",
         "v1.4 align 0, dataoff 6M: derived align 4M, 4G+6M not 4M aligned -> bad offset",
         "rejected/validate", align=0)
    case("fsdax-align0-2m-mem", S, "§3.7 step 9",
         "v1.4 align 0, map=mem, dataoff 2M: derived 2M", "fsdax", mode=MODE_RAM, align=0)
    case("devdax-align0-2m-mem", S, "§3.7 steps 9,12; dax_pmem uses the stored align",
         "devdax v1.4 align 0, map=mem, dataoff 2M: derived 2M passes validate",
         "devdax", sig=DAX_SIG, mode=MODE_RAM, align=0)
    case("devdax-align0-8m", S, "§3.7 steps 9,12",
         "devdax align 0, dataoff 8M: derived 8M is not a supported devdax align",
         "rejected/validate", sig=DAX_SIG, align=0, dataoff=8 * M, npfns=(S - 8 * M) // PAGE)

    # ---- versions ----
    case("v1.0-dataoff-6m", S, "§3.7 step 7 (minor<2: align ignored), step 16",
         "v1.0, dataoff 6M, stored align 2M ignored: derived 4M -> bad offset",
         "rejected/validate", version_minor=0)
    case("v1.1-dataoff-6m", S, "§3.7 step 7, 16", "v1.1, dataoff 6M -> bad offset",
         "rejected/validate", version_minor=1)
    case("v1.0-dataoff-8m", S, "§3.7 step 7, 9", "v1.0, dataoff 8M: derived align 8M",
         "fsdax", version_minor=0, dataoff=8 * M, npfns=(S - 8 * M) // PAGE)
    case("v1.1-dataoff-8m-align4k", S, "§3.7 step 7 (stored align ignored for minor<2)",
         "v1.1, dataoff 8M, stored align 4K (ignored): dev_align 8M", "fsdax",
         version_minor=1, align=4 * KiB, dataoff=8 * M, npfns=(S - 8 * M) // PAGE)
    case("v1.0-pads-ignored", S, "§3.7 step 7 (minor<1: start_pad/end_trunc = 0)",
         "v1.0, dataoff 8M, start_pad 4K and end_trunc 4K (misaligned if honoured)",
         "fsdax", version_minor=0, dataoff=8 * M, npfns=(S - 8 * M) // PAGE,
         start_pad=4 * KiB, end_trunc=4 * KiB)
    case("v1.1-endtrunc-honoured", S, "§3.7 steps 7, 18",
         "v1.1, dataoff 8M, end_trunc 4K: honoured from minor 1 -> end misaligned",
         "rejected/validate", version_minor=1, dataoff=8 * M, npfns=(S - 8 * M) // PAGE,
         end_trunc=4 * KiB)
    case("v1.2-garbage-88", S, "§3.7 step 7 (minor<4: page_size/page_struct_size defaulted)",
         "v1.2, bytes 88..96 garbage (page_size 8192, page_struct_size 32, junk 94..96)",
         "fsdax", version_minor=2, page_size=8192, page_struct_size=32,
         patches=[(94, b"\xde\xad")])
    case("v1.3-garbage-88", S, "§3.7 step 7; §1.6 (seed min_version at 88)",
         "v1.3, page_size 65536 / page_struct_size 16 (ignored for minor<4)", "fsdax",
         version_minor=3, page_size=65536, page_struct_size=16)
    case("v1.9", S, "§1.4 (no upper bound on minor)", "v1.9 kernel-style: treated as 1.4",
         "fsdax", version_minor=9)
    case("v1.9-pagesize-8192", S, "§1.4; §3.7 steps 7, 10",
         "v1.9 with page_size 8192 map=dev: minor 9 reads page_size like 1.4",
         "rejected/validate", version_minor=9, page_size=8192)
    case("v1.65535", S, "§1.4", "minor 65535 kernel-style", "fsdax", version_minor=65535)
    case("major0", S, "§1.4 (version_major never checked)", "v0.4 kernel-style", "fsdax",
         version_major=0)
    case("major2", S, "§1.4", "v2.4 kernel-style", "fsdax", version_major=2)
    case("kata-v0.2-mem", 128 * M, "NDCTL.md §6 (Kata nsdax); §3.7; §5.1 (RAM npfns from block)",
         "Kata-style: v0.2, map=mem, dataoff=align=2M, npfns 0, uuid 0, bytes 88.. zero",
         "fsdax", mode=MODE_RAM, version_major=0, version_minor=2, uuid=bytes(16),
         npfns=0, page_size=0, page_struct_size=0)
    case("devdax-v1.1-2m-mem", S, "§3.7 steps 7, 9, 12; dax_pmem align",
         "devdax v1.1 map=mem dataoff 2M: align forced 0, derived 2M passes validate",
         "devdax", sig=DAX_SIG, mode=MODE_RAM, version_minor=1, end_trunc=0)

    # ---- fields the kernel does not check ----
    case("flags-nonzero", S, "§1.4 (flags never checked)", "flags 0xffffffff", "fsdax",
         flags=0xFFFFFFFF)
    case("padding-nonzero", S, "§1.4 (padding never checked)",
         "padding bytes 94..4088 all 0xa5", "fsdax", patches=[(94, b"\xa5" * (4088 - 94))])
    case("uuid-zero", S, "§1.4 (uuid adopted on probe)", "uuid all zero", "fsdax",
         uuid=bytes(16))
    case("npfns-huge-dev", S, "§5.1 (map=dev recomputes npfns)",
         "npfns 2^40 map=dev: kernel logs 'truncated'", "fsdax", npfns=1 << 40)
    case("npfns-huge-mem", S, "§5.1 (map=mem takes npfns from the block)",
         "npfns 2^40 map=mem", "fsdax", mode=MODE_RAM, npfns=1 << 40)
    case("npfns-zero-dev", S, "§5.1", "npfns 0 map=dev", "fsdax", npfns=0)

    # ---- silently ignored blocks -> raw ----
    case("empty", S, "§3.7 step 4 (no block)", "all-zero head: no info-block", "raw",
         empty=True)
    case("bad-checksum", S, "§3.7 step 5", "kernel-style block, checksum LSB flipped", "raw",
         checksum="bad")
    case("checksum-zero", S, "§3.7 step 5", "kernel-style block, checksum field 0", "raw",
         checksum="none")
    case("sig-off-by-one", S, "§3.7 step 4", "signature NVDIMM_PFN_INFP\\0", "raw",
         signature=b"NVDIMM_PFN_INFP\0")
    case("sig-no-nul", S, "§3.7 step 4 (16-byte memcmp, NUL included)",
         "signature NVDIMM_PFN_INFO followed by 'X' instead of NUL", "raw",
         signature=b"NVDIMM_PFN_INFOX")
    case("dax-sig-no-nul", S, "§3.7 step 4", "DAX signature with a space instead of NUL", "raw",
         sig=DAX_SIG, signature=b"NVDIMM_DAX_INFO ")
    case("parent-uuid-nonzero", S, "§3.7 step 6 (label-less ns has a null uuid)",
         "parent_uuid = uuid", "raw", parent_uuid=case_uuid("parent-uuid-nonzero"))
    case("parent-uuid-one-byte", S, "§3.7 step 6 (all 16 bytes compared)",
         "parent_uuid all zero except its last byte = 1", "raw",
         parent_uuid=bytes(15) + b"\x01")
    case("mode-0", S, "§3.7 step 8 (-ENXIO -> raw)", "mode 0 (NONE)", "raw", mode=0)
    case("mode-3", S, "§3.7 step 8", "mode 3", "raw", mode=3)
    case("devdax-mode-3", S, "§3.7 step 8", "DAX signature, mode 3", "raw", sig=DAX_SIG, mode=3)

    # ---- page_size / page_struct_size ----
    case("pagesize-8192-dev", S, "§3.7 step 10", "page_size 8192 map=dev",
         "rejected/validate", page_size=8192)
    case("pagesize-8192-mem", S, "§3.7 step 10 (PMEM only)", "page_size 8192 map=mem",
         "fsdax", mode=MODE_RAM, page_size=8192)
    case("pagesize-0-dev", S, "§3.7 step 10 (only > PAGE_SIZE refused)", "page_size 0 map=dev",
         "fsdax", page_size=0)
    case("pagesize-2048-dev", S, "§3.7 step 10", "page_size 2048 map=dev", "fsdax",
         page_size=2048)
    case("pss-32-dev", S, "§3.7 step 11", "page_struct_size 32 map=dev", "rejected/validate",
         page_struct_size=32)
    case("pss-32-mem", S, "§3.7 step 11 (PMEM only)", "page_struct_size 32 map=mem", "fsdax",
         mode=MODE_RAM, page_struct_size=32)
    case("pss-0-dev", S, "§3.7 step 11", "page_struct_size 0 map=dev", "rejected/validate",
         page_struct_size=0)
    case("pss-128-dev", S, "§3.7 step 11; §7.5 (KMSAN-era 128)", "page_struct_size 128 map=dev",
         "fsdax", page_struct_size=128)
    case("devdax-pagesize-and-align", S, "§3.7 steps 10 vs 12 (order)",
         "devdax page_size 8192 and align 64K: which refusal comes first",
         "rejected/validate", sig=DAX_SIG, page_size=8192, align=64 * KiB)

    # ---- geometry ----
    case("align-gt-capacity", S, "§3.7 step 14", "fsdax align 1G on 256 MiB (dataoff 6M)",
         "rejected/validate", align=GiB, dataoff=6 * M, npfns=(S - 6 * M) // PAGE, end_trunc=0)
    case("devdax-1g-on-256m", S, "§3.7 step 14 (DAX)",
         "devdax align 1G on 256 MiB, dataoff 1G", "rejected/validate", sig=DAX_SIG,
         align=GiB, dataoff=GiB, npfns=0, end_trunc=0)
    case("dataoff-eq-size", S, "§3.7 step 15", "dataoff = ns_size (256M)", "rejected/validate",
         dataoff=S, npfns=0)
    case("dataoff-huge", S, "§3.7 step 15 (u64)", "dataoff 2^63, align 2M", "rejected/validate",
         dataoff=1 << 63, npfns=0)
    case("dataoff-unaligned-align512", S, "§3.7 step 16 (dataoff % PAGE_SIZE)",
         "fsdax align 512, dataoff 6M+512: align check passes, page check fails",
         "rejected/validate", align=512, dataoff=6 * M + 512)
    case("dataoff-unaligned-align2m", S, "§3.7 step 16 ((start+dataoff+start_pad) % align)",
         "map=mem align 2M dataoff 3M", "rejected/validate", mode=MODE_RAM, dataoff=3 * M,
         npfns=(S - 3 * M) // PAGE)
    case("align16m-dataoff18m", S, "§3.7 step 16", "fsdax align 16M, dataoff 18M",
         "rejected/validate", align=16 * M, dataoff=18 * M, npfns=(S - 18 * M) // PAGE,
         end_trunc=0)
    case("align3m-dataoff4m-mem", S, "§3.7 step 16 (IS_ALIGNED is a bit mask, not %)",
         "fsdax align 3M, map=mem, dataoff 4M: (4G+4M) & (3M-1) == 0 but (4G+4M) % 3M != 0",
         "fsdax", mode=MODE_RAM, align=3 * M, dataoff=4 * M, npfns=(S - 4 * M) // PAGE,
         end_trunc=0)
    case("align3m-dataoff2m-mem", S, "§3.7 step 16 (IS_ALIGNED is a bit mask, not %)",
         "fsdax align 3M, map=mem, dataoff 2M: (4G+2M) % 3M == 0 but & (3M-1) != 0",
         "rejected/validate", mode=MODE_RAM, align=3 * M, dataoff=2 * M, end_trunc=0)
    case("startpad-2m-legacy", S, "§3.7 steps 16-18; §5.1-5.2 (legacy start_pad honoured)",
         "v1.2 start_pad 2M, end_trunc 2M, dataoff 6M map=dev", "fsdax", version_minor=2,
         start_pad=2 * M, end_trunc=2 * M, dataoff=6 * M, npfns=(S - 10 * M) // PAGE)
    case("startpad-64m-mem", S, "§5.2 (start_pad with map=mem: dataoff < start_pad)",
         "v1.2 start_pad 64M, map=mem dataoff 2M", "fsdax", version_minor=2, mode=MODE_RAM,
         start_pad=64 * M, npfns=(S - 66 * M) // PAGE)
    case("devdax-startpad-2m", S, "§6.1 (devdax uses start_pad-adjusted base)",
         "devdax v1.2 start_pad 2M, end_trunc 2M, dataoff 6M", "devdax", sig=DAX_SIG,
         version_minor=2, start_pad=2 * M, end_trunc=2 * M, dataoff=6 * M,
         npfns=(S - 10 * M) // PAGE)
    case("startpad-1m-align1m", S, "§3.7 step 17 (resource start misaligned)",
         "start_pad 1M, align 1M, end_trunc 1M, map=mem dataoff 1M", "rejected/validate",
         mode=MODE_RAM, align=M, start_pad=M, end_trunc=M, dataoff=M,
         npfns=(S - 3 * M) // PAGE)
    case("startpad-4k-align2m", S, "§3.7 step 16 before 17",
         "start_pad 4K, align 2M: 'bad offset' reported before 'start misaligned'",
         "rejected/validate", start_pad=4 * KiB)
    case("startpad-4k-align4k", S, "§3.7 step 17",
         "start_pad 4K, align 4K: passes the offset check, start misaligned",
         "rejected/validate", start_pad=4 * KiB, align=4 * KiB)
    case("endtrunc-4k", S, "§3.7 step 18", "end_trunc 4K on a 256 MiB image",
         "rejected/validate", end_trunc=4 * KiB)
    case("endtrunc-2m", S, "§3.7 step 18; §5.2 (end_trunc honoured)",
         "end_trunc 2M (aligned): smaller device", "fsdax", end_trunc=2 * M,
         npfns=(S - 8 * M) // PAGE)
    case("size-plus4k-endtrunc", S + 4 * KiB, "§3.7 step 18 (harness README)",
         "256M+4K image with end_trunc 4K (what ndctl writes)", "fsdax")
    case("size-plus4k-no-endtrunc", S + 4 * KiB, "§3.7 step 18",
         "256M+4K image with end_trunc 0", "rejected/validate", end_trunc=0)
    case("size-plus4k-endtrunc-2m4k", S + 4 * KiB, "§3.7 step 18",
         "256M+4K image with end_trunc 2M+4K", "fsdax", end_trunc=2 * M + 4 * KiB,
         npfns=(S - 8 * M) // PAGE)
    case("small-ns-equal", 16 * M, "§3.7 step 19 (6.1 lacks it)",
         "16M, map=mem dataoff 8M, end_trunc 8M: dataoff == size - end_trunc",
         {"6.1": "fsdax", "6.12": "rejected/validate"}, mode=MODE_RAM, dataoff=8 * M,
         end_trunc=8 * M, npfns=0)
    case("small-ns-over-mem", 16 * M, "§3.7 step 19; §5.2 (capacity arithmetic)",
         "16M, map=mem dataoff 10M, end_trunc 8M: dataoff > size - end_trunc",
         {"6.1": "?", "6.12": "rejected/validate"}, mode=MODE_RAM, dataoff=10 * M,
         end_trunc=8 * M, npfns=0)
    case("small-ns-startpad", 16 * M, "§3.7 step 19 with start_pad",
         "16M, map=mem start_pad 8M, dataoff 8M", {"6.1": "fsdax", "6.12": "rejected/validate"},
         version_minor=2, mode=MODE_RAM, start_pad=8 * M, dataoff=8 * M, npfns=0)
    case("endtrunc-wraps", 64 * M, "§3.7 step 19 (u64 wrap of size - end_trunc)",
         "64M, end_trunc 128M (> size), map=mem dataoff 2M", "?", mode=MODE_RAM,
         end_trunc=128 * M, npfns=0)
    case("startpad-beyond-end", 64 * M, "§3.7 step 19 (u64 wrap of size - start_pad)",
         "64M, start_pad 128M (> size), map=mem dataoff 2M", "?", version_minor=2,
         mode=MODE_RAM, start_pad=128 * M, end_trunc=0, npfns=0)

    # ---- enable stage (memmap, reserve) ----
    case("mapdev-memmap-too-small", S, "§5.1 (memmap must fit in [8K, dataoff))",
         "map=dev dataoff 2M on 256 MiB (memmap needs 4 MiB)", "rejected/enable",
         dataoff=2 * M, npfns=(S - 2 * M) // PAGE)
    case("mapdev-4k-minimal", S, "§5.1 (x86 vmemmap allocates 2 MiB blocks from the altmap)",
         "map=dev align 4K, dataoff = 8K + 64*npfns0 rounded to 4K (4M+8K)", "?",
         align=4 * KiB, dataoff=4 * M + 8 * KiB, npfns=(S - 4 * M - 8 * KiB) // PAGE)
    case("mapdev-5m", S, "§5.1 (memmap 4M fits in 5M-8K by bytes)",
         "map=dev align 1M, dataoff 5M on 256 MiB", "?", align=M, dataoff=5 * M,
         npfns=(S - 5 * M) // PAGE)
    case("mapdev-64m-dataoff-1m", 64 * M, "§5.1 (partial section: memmap not in altmap?)",
         "64 MiB map=dev align 1M dataoff 1M: memmap (1M) does not fit by bytes", "?",
         align=M, dataoff=M, npfns=(64 * M - M) // PAGE)
    case("mapmem-dataoff-4k", S, "§5.1 (RAM: dataoff < 8K reserve -> -EINVAL)",
         "map=mem align 4K dataoff 4K", "rejected/enable", mode=MODE_RAM, align=4 * KiB,
         dataoff=4 * KiB, npfns=(S - 4 * KiB) // PAGE)
    case("mapmem-dataoff-8k", S, "§5.1 (dataoff == reserve is fine)",
         "map=mem align 4K dataoff 8K", "fsdax", mode=MODE_RAM, align=4 * KiB,
         dataoff=8 * KiB, npfns=(S - 8 * KiB) // PAGE)
    case("devdax-mem-4k-dataoff-12k", S, "§6.1; §5.1",
         "devdax map=mem align 4K dataoff 12K", "devdax", sig=DAX_SIG, mode=MODE_RAM,
         align=4 * KiB, dataoff=12 * KiB, npfns=(S - 12 * KiB) // PAGE)
    case("mapdev-dataoff-4k", S, "§5.1 (altmap free = dataoff - 8K underflows)",
         "map=dev align 4K dataoff 4K", "?", align=4 * KiB, dataoff=4 * KiB,
         npfns=(S - 4 * KiB) // PAGE)
    case("dataoff0-align0", S, "§7.7 (1 << ilog2(0) undefined)",
         "map=mem align 0 dataoff 0", "rejected/validate", mode=MODE_RAM, align=0, dataoff=0,
         npfns=S // PAGE)
    case("dataoff0-align2m-dev", S, "§7.7; §5.1 (altmap free underflows)",
         "map=dev align 2M dataoff 0", "?", dataoff=0, npfns=S // PAGE)
    case("dataoff0-align2m-mem", S, "§5.1 (RAM reserve)", "map=mem align 2M dataoff 0",
         "rejected/enable", mode=MODE_RAM, dataoff=0, npfns=S // PAGE)
    case("devdax-dataoff0-align2m-mem", S, "§5.1; §6.1",
         "devdax map=mem align 2M dataoff 0", "rejected/enable", sig=DAX_SIG, mode=MODE_RAM,
         dataoff=0, npfns=S // PAGE)


# --------------------------------------------------------------------------
# output


def uuid_str(b):
    return str(uuidlib.UUID(bytes=bytes(b)))


def head_of(c):
    if c["empty"]:
        return bytes(HEAD), None, None
    blk, stored, ok = build_block(c["fields"])
    return bytes(BLOCK) + blk, stored, ok


def suite_entry(c, head):
    f = c["fields"]
    e = {"name": c["name"], "ns_size": c["ns_size"], "description": c["description"],
         "rule": c["rule"], "predict": c["predict"],
         "head": "cases/%s.head" % c["name"],
         "head_sha256": hashlib.sha256(head).hexdigest()}
    if c["guest_cmd"]:
        e["guest_cmd"] = c["guest_cmd"]
        if not c["guest_raw"]:
            e["guest_raw"] = False
    if c["empty"]:
        e["block"] = None
        return e
    blk = head[BLOCK:]
    b = {}
    for name, off, fmt in FIELDS:
        v = struct.unpack_from(fmt, blk, off)[0]
        if name == "signature":
            b[name] = v.decode("latin-1")
            b["signature_hex"] = v.hex()
        elif name in ("uuid", "parent_uuid"):
            b[name] = uuid_str(v)
        else:
            b[name] = v
    b["checksum"] = struct.unpack_from("<Q", blk, CHECKSUM_OFF)[0]
    b["checksum_valid"] = b["checksum"] == sb_checksum(blk)
    b["patches"] = [{"offset": off, "len": len(d), "hex": d[:16].hex()}
                    for off, d in f.get("patches", [])]
    e["block"] = b
    return e


def render():
    define_cases()
    files, entries = {}, []
    for c in CASES:
        head, _, _ = head_of(c)
        assert len(head) == HEAD and head[:BLOCK] == bytes(BLOCK)
        files["cases/%s.head" % c["name"]] = head
        entries.append(suite_entry(c, head))
    suite = {
        "format": 1,
        "about": "nd_pfn info-block kernel test suite; generated by gen.py, do not edit",
        "ns_start": NS_START,
        "head_bytes": HEAD,
        "predict_note": "predict = expectation from FORMAT.md and the harness README, "
                        "written before the kernels were run; recorded.json holds the truth",
        "cases": entries,
    }
    files["suite.json"] = (json.dumps(suite, indent=1, ensure_ascii=False) + "\n").encode()
    return files


# --------------------------------------------------------------------------
# self-test


def self_test():
    # raw nd_fletcher64 vectors (FORMAT.md 2.3 T1-T4)
    assert nd_fletcher64(bytes(4096)) == 0, "T1"
    assert sb_checksum(bytes(4096)) == 0, "T1 sb"
    assert nd_fletcher64(b"\xff" * 4096) == 0xFFF7FE00FFFFFC00, "T2"
    assert sb_checksum(b"\xff" * 4096) == 0xFFF7FE03FFFFFC02, "T2'"
    t3 = bytes(i % 256 for i in range(4096))
    assert nd_fletcher64(t3) == 0x9385A80001FDF800, "T3"
    assert sb_checksum(t3) == 0x9B90B6140604000C, "T3'"
    assert nd_fletcher64(b"abcd") == 0x6463626164636261, "T4a"
    assert nd_fletcher64(b"abcdefgh") == 0x312E2B27CCCAC8C6, "T4b"

    # full blocks A-D
    def vec(sig, minor, dataoff, npfns, mode, start_pad, align, page_size, pss):
        return {"signature": sig, "uuid": bytes(range(16)), "parent_uuid": bytes(range(16, 32)),
                "flags": 0, "version_major": 1, "version_minor": minor, "dataoff": dataoff,
                "npfns": npfns, "mode": mode, "start_pad": start_pad, "end_trunc": 0,
                "align": align, "page_size": page_size, "page_struct_size": pss}
    A = vec(PFN_SIG, 4, 0x1200000, 0x3EE00, 2, 0, 0x200000, 0x1000, 64)
    B = vec(PFN_SIG, 4, 0x200000, 0x3FE00, 1, 0, 0x200000, 0x1000, 64)
    C = vec(DAX_SIG, 4, 0x1200000, 0x3EE00, 2, 0, 0x200000, 0x1000, 64)
    D = vec(PFN_SIG, 2, 0x1200000, 0x3AE00, 2, 0x4000000, 0x200000, 0, 0)
    for nm, f, want in (("A", A, 0xCB6F555C6D1AAEE2), ("B", B, 0xD9AE516E6C1ABEE1),
                        ("C", C, 0xD7972D66611AB8DD), ("D", D, 0x764DBB1C71185EA2)):
        blk, stored, ok = build_block(f)
        assert ok and stored == want, "vector %s: %#x != %#x" % (nm, stored, want)
        assert struct.unpack_from("<Q", blk, CHECKSUM_OFF)[0] == want
    blk, _, _ = build_block(A)
    want96 = ("4e5644494d4d5f50464e5f494e464f00 000102030405060708090a0b0c0d0e0f "
              "101112131415161718191a1b1c1d1e1f 00000000 0100 0400 0000200100000000 "
              "00ee030000000000 02000000 00000000 00000000 00002000 00100000 4000 0000")
    assert blk[:96].hex() == want96.replace(" ", ""), "vector A bytes 0..95"
    # the kernel-style layout reproduces the worked example (A/B) and the
    # harness README's ndctl image (256 MiB: dataoff 6M)
    assert kstyle(GiB) == {"dataoff": 0x1200000, "npfns": 0x3EE00, "end_trunc": 0}
    assert kstyle(GiB, mode=MODE_RAM) == {"dataoff": 0x200000, "npfns": 0x3FE00, "end_trunc": 0}
    assert kstyle(256 * MiB)["dataoff"] == 6 * MiB
    assert kstyle(256 * MiB + 4096)["end_trunc"] == 4096


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--self-test", action="store_true", help="only run the self-test")
    ap.add_argument("--verify", action="store_true",
                    help="check that cases/ and suite.json match this script")
    a = ap.parse_args()
    self_test()
    if a.self_test:
        print("gen.py: self-test ok (T1-T4, A-D)")
        return 0
    files = render()
    if a.verify:
        bad = []
        for rel, data in files.items():
            p = os.path.join(HERE, rel)
            try:
                with open(p, "rb") as fh:
                    if fh.read() != data:
                        bad.append(rel)
            except FileNotFoundError:
                bad.append(rel + " (missing)")
        extra = sorted(set("cases/" + n for n in os.listdir(CASES_DIR)) - set(files)) \
            if os.path.isdir(CASES_DIR) else []
        for rel in bad + [e + " (not generated)" for e in extra]:
            print("gen.py: out of date: " + rel, file=sys.stderr)
        if bad or extra:
            return 1
        print("gen.py: %d cases up to date" % (len(files) - 1))
        return 0
    os.makedirs(CASES_DIR, exist_ok=True)
    keep = set(files)
    for n in os.listdir(CASES_DIR):
        if "cases/" + n not in keep:
            os.remove(os.path.join(CASES_DIR, n))
    for rel, data in files.items():
        with open(os.path.join(HERE, rel), "wb") as fh:
            fh.write(data)
    print("gen.py: wrote %d cases and suite.json" % (len(files) - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Namespace label storage area (LSA) helper (stdlib only; own code).

    lsa.py init IMAGE [--area 131072] [--label-size 256]
        write an empty index pair (what the kernel's init_labels writes on a
        label area without a valid pair, and what `ndctl init-labels` makes)
        into the last AREA bytes of IMAGE (where the harness's -L puts the
        label area); the rest of the area is zeroed.
    lsa.py dump FILE [--area 131072] [--raw]
        decode the index pair and the labels in use (FILE = an image, whose
        last AREA bytes are the area, or with --raw a bare AREA-byte dump);
        prints JSON.
    lsa.py extract IMAGE OUT [--area 131072]
        copy the last AREA bytes of IMAGE to OUT.

Layout (kernel label.c, UEFI 2.7 slot count):
    nslot      = (area - 2 * ALIGN(72 + (area / lsize) / 8, 256)) / lsize
                 (510 for 256-byte labels in 128 KiB, 1020 for 128-byte)
    index size = ALIGN(72 + ceil(nslot / 8), 256)            (256 for both)
    index 0 at 0, index 1 at index size, labels at 2 * index size.
    init: index 0 seq 3, index 1 seq 2 (so index 0 is current), free bitmap
    all ones for the nslot slots (rounded up to 64 bits, the bits past nslot
    cleared), major 1, minor 2 for 256-byte labels (1 for 128), labelsize
    byte = lsize >> 8, checksum = nd_fletcher64 over the index with its
    checksum field (offset 64) zero.
"""
import argparse
import json
import os
import struct
import sys

SIG = b"NAMESPACE_INDEX\0"
HDR = 72


def align(x, a):
    return (x + a - 1) // a * a


def fletcher64(buf):
    lo, hi = 0, 0
    for (w,) in struct.iter_unpack("<I", buf[: len(buf) // 4 * 4]):
        lo = (lo + w) & 0xFFFFFFFF
        hi = hi + lo
    return ((hi << 32) & 0xFFFFFFFFFFFFFFFF) | lo


def geometry(area, lsize):
    tmp = area // lsize
    n = align(HDR + tmp // 8, 256) * 2
    nslot = (area - n) // lsize
    isize = align(HDR + (nslot + 7) // 8, 256)
    return nslot, isize


def make_index(area, lsize, which, seq):
    nslot, isize = geometry(area, lsize)
    b = bytearray(isize)
    b[0:16] = SIG
    b[19] = lsize >> 8
    struct.pack_into("<IQQQQIHH", b, 20, seq, which * isize, isize, (1 - which) * isize,
                     2 * isize, nslot, 1, 2 if lsize >= 256 else 1)
    nfree = align(nslot, 64)
    bits = bytearray(nfree // 8)
    for s in range(nslot):
        bits[s // 8] |= 1 << (s % 8)
    b[HDR:HDR + len(bits)] = bits
    struct.pack_into("<Q", b, 64, fletcher64(bytes(b)))
    return bytes(b)


def init_area(area, lsize):
    nslot, isize = geometry(area, lsize)
    buf = bytearray(area)
    buf[0:isize] = make_index(area, lsize, 0, 3)
    buf[isize:2 * isize] = make_index(area, lsize, 1, 2)
    return bytes(buf)


def fmt_uuid(b):
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def nd_inc_seq(s):
    return {1: 2, 2: 3, 3: 1}.get(s & 3, 0)


def decode_index(buf, off, isize):
    b = buf[off:off + isize]
    d = {"offset": off, "sig_ok": b[:16] == SIG, "flags": b[16:19].hex(), "labelsize": b[19]}
    (d["seq"], d["myoff"], d["mysize"], d["otheroff"], d["labeloff"], d["nslot"], d["major"],
     d["minor"], d["checksum"]) = struct.unpack_from("<IQQQQIHHQ", b, 20)
    z = bytearray(b)
    z[64:72] = bytes(8)
    d["checksum_ok"] = fletcher64(bytes(z)) == d["checksum"]
    nslot = d["nslot"] if d["nslot"] < 8 * isize else 0
    free = [s for s in range(nslot) if b[HDR + s // 8] >> (s % 8) & 1]
    d["nfree"] = len(free)
    d["used_slots"] = [s for s in range(nslot) if not (b[HDR + s // 8] >> (s % 8) & 1)]
    tail = [s for s in range(nslot, align(nslot, 64)) if HDR + s // 8 < isize and b[HDR + s // 8] >> (s % 8) & 1]
    d["bits_past_nslot_set"] = tail
    return d


GUIDS = {  # claim-class abstraction GUIDs (kernel label.h NVDIMM_*_GUID), as text
    "8aed63a2-29a2-4c66-8b12-f05d15d3922a": "btt (BTT1)",
    "18633bfc-1735-4217-8ac9-17239282d3f8": "btt2 (BTT2)",
    "266400ba-fb9f-4677-bcb0-968f11d0d225": "pfn",
    "97a86d9c-3cdd-4eda-986f-5068b4f80088": "dax",
    "00000000-0000-0000-0000-000000000000": "none",
}


def guid_text(b):
    # guid_t is stored as the kernel's guid_parse() layout (mixed endian)
    d1, d2, d3 = struct.unpack_from("<IHH", b, 0)
    return f"{d1:08x}-{d2:04x}-{d3:04x}-{b[8:10].hex()}-{b[10:16].hex()}"


def decode_label(b, slot, lsize):
    L = {"slot_index": slot, "uuid": fmt_uuid(b[0:16]), "name": b[16:80].split(b"\0")[0].decode("latin-1")}
    (L["flags"], L["nlabel"], L["position"], L["isetcookie"], L["lbasize"], L["dpa"], L["rawsize"],
     L["slot"]) = struct.unpack_from("<IHHQQQQI", b, 80)
    L["isetcookie_hex"] = f"{L['isetcookie']:#018x}"
    if lsize >= 256:
        L["align"] = b[124]
        L["type_guid"] = guid_text(b[128:144])
        L["abstraction_guid"] = guid_text(b[144:160])
        L["claim_class"] = GUIDS.get(L["abstraction_guid"], "unknown")
        L["reserved2_zero"] = b[160:248].count(0) == 88
        (L["checksum"],) = struct.unpack_from("<Q", b, 248)
        z = bytearray(b[:lsize])
        z[248:256] = bytes(8)
        L["checksum_ok"] = fletcher64(bytes(z)) == L["checksum"]
    return L


def dump(area_bytes, lsize=None):
    area = len(area_bytes)
    out = {"area": area}
    for ls in ([lsize] if lsize else [128, 256]):
        nslot, isize = geometry(area, ls)
        idx = [decode_index(area_bytes, 0, isize), decode_index(area_bytes, isize, isize)]
        ok = [i["sig_ok"] and i["checksum_ok"] and (i["seq"] & 3) != 0 and
              ((1 << (7 + i["labelsize"])) if i["major"] * 100 + i["minor"] >= 102 else 128) == ls
              for i in idx]
        if any(ok) or ls == 256:
            out["label_size"] = ls
            out["expected_nslot"] = nslot
            out["index_size"] = isize
            out["index"] = idx
            out["index_valid"] = ok
            if all(ok):
                a, b = idx[0]["seq"] & 3, idx[1]["seq"] & 3
                cur = 1 if (a == 0 or a == b or nd_inc_seq(a) == b) else 0
            elif ok[0]:
                cur = 0
            elif ok[1]:
                cur = 1
            else:
                cur = None
            out["current_index"] = cur
            labels = []
            if cur is not None:
                for s in idx[cur]["used_slots"]:
                    o = 2 * isize + s * ls
                    labels.append(decode_label(area_bytes[o:o + ls], s, ls))
            out["labels"] = labels
            if any(ok):
                break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["init", "dump", "extract"])
    ap.add_argument("file")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--area", type=int, default=131072)
    ap.add_argument("--label-size", type=int, default=256)
    ap.add_argument("--raw", action="store_true")
    a = ap.parse_args()
    if a.cmd == "init":
        size = os.path.getsize(a.file)
        with open(a.file, "r+b") as f:
            f.seek(size - a.area)
            f.write(init_area(a.area, a.label_size))
    elif a.cmd == "extract":
        size = os.path.getsize(a.file)
        with open(a.file, "rb") as f:
            f.seek(size - a.area)
            data = f.read(a.area)
        with open(a.out, "wb") as o:
            o.write(data)
    else:
        with open(a.file, "rb") as f:
            if a.raw:
                data = f.read()
            else:
                f.seek(os.path.getsize(a.file) - a.area)
                data = f.read(a.area)
        print(json.dumps(dump(data), indent=1))


if __name__ == "__main__":
    main()

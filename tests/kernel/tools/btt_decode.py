#!/usr/bin/env python3
"""Decode the BTT arenas of an image (stdlib only; own code, for fixtures).

    btt_decode.py IMAGE|NDSPARSE [BASE] [--lba N ...]

BASE is the byte offset of the first arena's info block: 4096 for BTT v1.1
(label-less namespace), 0 for v2.0 (labelled namespace, claim class BTT2);
default: try 4096 then 0. Prints JSON: each arena's info block fields (kernel
names), whether info2 equals info, the checksum check, the flog of every
lane (both 16-byte entries, and which one is current by the seq rule
next(seq_a) == seq_b) and the map entry of each --lba.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ndsparse  # noqa: E402

SIG = b"BTT_ARENA_INFO\0\0"


def fletcher64(buf):
    lo, hi = 0, 0
    for (w,) in struct.iter_unpack("<I", buf[: len(buf) // 4 * 4]):
        lo = (lo + w) & 0xFFFFFFFF
        hi = hi + lo
    return ((hi << 32) & 0xFFFFFFFFFFFFFFFF) | lo


def sb_checksum(block):
    b = bytearray(block)
    b[4088:4096] = bytes(8)
    return fletcher64(bytes(b))


def fmt_uuid(b):
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def parse_info(block):
    f = {}
    f["signature_ok"] = block[:16] == SIG
    f["uuid"] = fmt_uuid(block[16:32])
    f["parent_uuid"] = fmt_uuid(block[32:48])
    (f["flags"], f["version_major"], f["version_minor"], f["external_lbasize"],
     f["external_nlba"], f["internal_lbasize"], f["internal_nlba"], f["nfree"],
     f["infosize"], f["nextoff"], f["dataoff"], f["mapoff"], f["logoff"],
     f["info2off"]) = struct.unpack_from("<IHHIIIIII QQQQQ", block, 48)
    f["checksum"] = struct.unpack_from("<Q", block, 4088)[0]
    f["checksum_ok"] = f["checksum"] == sb_checksum(block)
    f["padding_all_zero"] = block[120:4088].count(0) == 3968
    return f


def seq_next(s):
    return {1: 2, 2: 3, 3: 1}.get(s, 0)


def decode(img, base, lbas=(), max_arenas=64):
    arenas = []
    off = base
    lba_base = 0
    for _ in range(max_arenas):
        blk = img[off:off + 4096]
        if len(blk) < 4096:
            break
        info = parse_info(blk)
        if not info["signature_ok"]:
            break
        a = {"arena_offset": off, "info": info}
        i2 = off + info["info2off"]
        a["info2_equals_info"] = img[i2:i2 + 4096] == blk
        flog = []
        seqs = {}
        for lane in range(info["nfree"]):
            lo = off + info["logoff"] + 64 * lane
            ents = [struct.unpack_from("<IIII", img, lo + 16 * k) for k in range(2)]
            pad_zero = img[lo + 32:lo + 64].count(0) == 32
            sa, sb = ents[0][3], ents[1][3]
            cur = 1 if seq_next(sa) == sb else 0 if seq_next(sb) == sa or sb == 0 else None
            seqs.setdefault(f"{sa}/{sb}", 0)
            seqs[f"{sa}/{sb}"] += 1
            flog.append({"lane": lane,
                         "ent": [dict(zip(("lba", "old_map", "new_map", "seq"), e)) for e in ents],
                         "current": cur, "pad_zero": pad_zero})
        a["flog_seq_pairs"] = seqs
        a["flog_nondefault"] = [f for f in flog if f["ent"][0]["seq"] != 1 or f["ent"][1]["seq"] != 0
                                or f["ent"][0]["lba"] != 0 or f["ent"][0]["old_map"] != f["ent"][0]["new_map"]]
        a["flog_lane0"] = flog[0] if flog else None
        maps = {}
        for lba in lbas:
            rel = lba - lba_base
            if 0 <= rel < info["external_nlba"]:
                (e,) = struct.unpack_from("<I", img, off + info["mapoff"] + 4 * rel)
                z, er = bool(e & 0x80000000), bool(e & 0x40000000)
                post = e & 0x3FFFFFFF
                if not z and not er:
                    post = rel  # initial state: identity
                maps[str(lba)] = {"raw": e, "postmap": post, "z": z, "e": er,
                                  "data_offset": off + info["dataoff"] + post * info["internal_lbasize"]}
        a["map"] = maps
        arenas.append(a)
        lba_base += info["external_nlba"]
        if info["nextoff"] == 0:
            break
        off += info["nextoff"]
    return arenas


def load_any(path):
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic == ndsparse.MAGIC:
        return ndsparse.load(path)
    with open(path, "rb") as f:
        return f.read()


class SparseView:
    """Random access into a large sparse file without reading it all."""

    def __init__(self, path):
        self.f = open(path, "rb")

    def __getitem__(self, s):
        self.f.seek(s.start)
        return self.f.read(s.stop - s.start)


def unpack_from_view(fmt, view, off):
    return struct.unpack(fmt, view[off:off + struct.calcsize(fmt)])


def open_image(path):
    if os.path.getsize(path) > (1 << 30):
        v = SparseView(path)
        return _ViewBytes(v)
    return load_any(path)


class _ViewBytes:
    def __init__(self, v):
        self.v = v

    def __getitem__(self, s):
        return self.v[s]


# struct.unpack_from on a view: patch in a helper
_orig_unpack_from = struct.unpack_from


def _unpack_from(fmt, buf, off=0):
    if isinstance(buf, _ViewBytes):
        return struct.unpack(fmt, buf[off:off + struct.calcsize(fmt)])
    return _orig_unpack_from(fmt, buf, off)


struct.unpack_from = _unpack_from


def main(argv):
    args = argv[1:]
    lbas = []
    if "--lba" in args:
        i = args.index("--lba")
        lbas = [int(x, 0) for x in args[i + 1:]]
        args = args[:i]
    img = open_image(args[0])
    bases = [int(args[1], 0)] if len(args) > 1 else [4096, 0]
    for b in bases:
        ar = decode(img, b, lbas)
        if ar:
            print(json.dumps({"base": b, "arenas": ar}, indent=1))
            return 0
    print(json.dumps({"base": None, "arenas": []}))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

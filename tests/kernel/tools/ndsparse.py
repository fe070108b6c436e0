#!/usr/bin/env python3
"""NDSPARSE: a sparse image as its non-zero 4 KiB blocks (stdlib only).

Format (all integers little-endian):
    b"NDSPARSE"            8 bytes magic
    u64 image_size
    records until EOF:     u64 offset, u64 length, `length` bytes
Each record is a run of adjacent non-zero 4 KiB blocks of the image
(adjacent non-zero blocks are merged into one record); everything not
covered by a record is zero.

    ndsparse.py pack IMAGE OUT      write OUT from IMAGE (holes are skipped
                                    with SEEK_DATA/SEEK_HOLE, so a sparse
                                    520 GiB image packs quickly)
    ndsparse.py unpack IN IMAGE     re-create IMAGE (sparse) from IN
    ndsparse.py list IN             print the runs
"""
import os
import struct
import sys

MAGIC = b"NDSPARSE"
BLOCK = 4096
ZERO = bytes(BLOCK)


def _data_extents(f, size):
    """(start, end) ranges that may hold data (SEEK_DATA/SEEK_HOLE)."""
    fd = f.fileno()
    pos = 0
    if not hasattr(os, "SEEK_DATA"):
        yield 0, size
        return
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, min(end, size)
        pos = end


def runs_of_file(path):
    """Yield (offset, bytes) for each run of non-zero 4 KiB blocks."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        cur_off, cur = None, []
        for start, end in _data_extents(f, size):
            start -= start % BLOCK
            f.seek(start)
            off = start
            while off < end:
                chunk = f.read(min(1 << 20, end - off + (-(end - off)) % BLOCK))
                if not chunk:
                    break
                for i in range(0, len(chunk), BLOCK):
                    blk = chunk[i:i + BLOCK]
                    o = off + i
                    if blk.count(0) == len(blk):
                        if cur:
                            yield cur_off, b"".join(cur)
                            cur_off, cur = None, []
                        continue
                    if cur and cur_off + sum(map(len, cur)) == o:
                        cur.append(blk)
                    else:
                        if cur:
                            yield cur_off, b"".join(cur)
                        cur_off, cur = o, [blk]
                off += len(chunk)
        if cur:
            yield cur_off, b"".join(cur)


def pack(image, out):
    size = os.path.getsize(image)
    n = 0
    with open(out, "wb") as o:
        o.write(MAGIC + struct.pack("<Q", size))
        for off, data in runs_of_file(image):
            o.write(struct.pack("<QQ", off, len(data)) + data)
            n += 1
    return n


def read_runs(path):
    """(image_size, [(offset, bytes), ...]) from an NDSPARSE file."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != MAGIC or len(buf) < 16:
        raise ValueError(f"{path}: not an NDSPARSE file")
    (size,) = struct.unpack_from("<Q", buf, 8)
    runs, p = [], 16
    while p < len(buf):
        if p + 16 > len(buf):
            raise ValueError(f"{path}: truncated record header at {p}")
        off, ln = struct.unpack_from("<QQ", buf, p)
        p += 16
        if p + ln > len(buf) or off + ln > size:
            raise ValueError(f"{path}: record at {p - 16} out of bounds")
        runs.append((off, buf[p:p + ln]))
        p += ln
    return size, runs


def load(path):
    """The whole image as bytes (small images only)."""
    size, runs = read_runs(path)
    img = bytearray(size)
    for off, data in runs:
        img[off:off + len(data)] = data
    return bytes(img)


def unpack(path, image):
    size, runs = read_runs(path)
    with open(image, "wb") as f:
        f.truncate(size)
        for off, data in runs:
            f.seek(off)
            f.write(data)


def main(argv):
    if len(argv) == 4 and argv[1] == "pack":
        print(f"{pack(argv[2], argv[3])} runs")
    elif len(argv) == 4 and argv[1] == "unpack":
        unpack(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "list":
        size, runs = read_runs(argv[2])
        print(f"size={size}")
        for off, data in runs:
            print(f"{off:#x} +{len(data):#x}")
    else:
        print(__doc__, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Kernel ground truth for namespace labels: a chain of scenarios on one image.

    labels.py [--out DIR] [--fixture DIR] [--size BYTES]

The image (default 512 MiB + 128 KiB) gets an empty v1.2 index pair in its
last 128 KiB (lsa.py init). Each step runs tools/labels/lib.sh + the step's
script in the guest with run.sh -w -L 128K (kernel 6.1), then the image is
snapshotted and booted again on every kernel without -a/-w; the step's
JSON holds the guest output, the re-boot's NDH-VERDICT/NDH-JSON/NDH-ND lines
and the LSA decoded by lsa.py; STEP.lsa is the raw 128 KiB area.
Steps c1/c2 (after s6) corrupt one index (the current one) / both on a copy
of the s6 image; s7 then continues on the s6 image.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lsa  # noqa: E402
import ndsparse  # noqa: E402
import btt_decode  # noqa: E402

HARNESS = os.environ.get(
    "NDH_HARNESS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig")
)  # the repository's kernel rig (tests/kernel/rig, same run.sh interface)
AREA = 131072
STEPS = ["s1-create-a", "s2-create-b", "s3-resize-a", "s4-delete-b", "s5-btt", "s6-pfn", "s7-btt2"]
KEEP_IMAGE = ("s5", "s6", "s7")
CORRUPT_AFTER = "s6-pfn"  # c1/c2 are made from this step's image


def run(cmd):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace"), round(time.time() - t0, 1)


def lines(out, prefix):
    return [l for l in out.splitlines() if l.startswith(prefix)]


def split_by_kernel(out):
    """-v -K all output: one block per boot, each starting at "NDH: guest-begin"."""
    blocks, cur = [], []
    for l in out.splitlines():
        if l.startswith("NDH: guest-begin") and cur:
            blocks.append(cur)
            cur = []
        cur.append(l)
    if cur:
        blocks.append(cur)
    res = []
    for b in blocks:
        js = [json.loads(l[9:]) for l in b if l.startswith("NDH-JSON ")]
        v = [l for l in b if l.startswith("NDH-VERDICT")]
        kern = [w[7:] for l in v for w in l.split() if w.startswith("kernel=")]
        res.append({"kernel": kern[0] if kern else None, "verdict": v,
                    "json": js[0] if js else None, "nd": [l for l in b if l.startswith("NDH-ND ")],
                    "blk": [l for l in b if l.startswith("NDH-BLK")],
                    "reasons_notes": [l for l in b if l.startswith(("NDH-REASON", "NDH-NOTE"))],
                    "dmesg_label": [l for l in b if l.startswith("NDH-DMESG") and
                                    any(k in l for k in ("label", "nsindex", "namespace", "btt", "pfn", "nmem0"))]})
    return res


def reboot(img):
    rc, out, s = run([os.path.join(HARNESS, "run.sh"), "-v", "-J", "-K", "all", "-L", "128K", img])
    with open(img + ".reboot.out", "w") as f:
        f.write(out)
    return {"cmd": "run.sh -v -J -K all -L 128K IMAGE", "rc": rc, "wall_s": s, "kernels": split_by_kernel(out)}


def lsa_of(img):
    with open(img, "rb") as f:
        f.seek(os.path.getsize(img) - AREA)
        return f.read(AREA)


def record(d, fx, name, img, extra):
    area = lsa_of(img)
    with open(os.path.join(d, name + ".lsa"), "wb") as f:
        f.write(area)
    rec = dict(extra)
    rec["step"] = name
    rec["image_size"] = os.path.getsize(img)
    rec["lsa_offset_in_image"] = os.path.getsize(img) - AREA
    rec["lsa_decoded_by_lsa_py"] = lsa.dump(area)
    rec["reboot"] = reboot(img)
    if name.startswith(KEEP_IMAGE):
        nds = os.path.join(d, name + ".ndsparse")
        ndsparse.pack(img, nds)
        rec["ndsparse_bytes"] = os.path.getsize(nds)
        # a BTT on a labelled namespace: v2.0 at offset 0 when the claim
        # class is BTT2, else v1.1 at 4096; decode each namespace at its dpa
        # (the region starts at image offset 0 here)
        found = {}
        with open(img, "rb") as f:
            for lab in rec["lsa_decoded_by_lsa_py"].get("labels", []):
                f.seek(lab["dpa"])
                buf = f.read(lab["rawsize"])
                for base in (0, 4096):
                    ar = btt_decode.decode(buf, base, [0, 5, lab["rawsize"] // 4096])
                    if ar:
                        for x in ar:
                            x.pop("flog_nondefault", None)
                        found[lab["name"]] = {"namespace_dpa": lab["dpa"], "info_offset_in_namespace": base,
                                              "arenas": ar}
                        break
        if found:
            rec["btt_decoded_by_btt_decode_py"] = found
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump(rec, f, indent=1)
    if fx:
        os.makedirs(fx, exist_ok=True)
        for ext in (".json", ".lsa", ".ndsparse"):
            p = os.path.join(d, name + ext)
            if os.path.exists(p):
                shutil.copy(p, fx)
    summ = [(k["kernel"], k["verdict"], [n for n in k["nd"] if "namespace" in n.split()[1]]) for k in rec["reboot"]["kernels"]]
    print(name, json.dumps(summ)[:3000], flush=True)
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/work/scratch/truth/labels")
    ap.add_argument("--fixture", default="")
    ap.add_argument("--size", type=int, default=(512 << 20) + AREA)
    ap.add_argument("--resume", default="", help="start at this step on the existing work.img")
    ap.add_argument("--label-size", type=int, default=256, help="128: v1.1 index/labels")
    ap.add_argument("--steps", default="", help="comma-separated subset of the steps")
    ap.add_argument("--kernel", default="default", help="kernel that runs the steps (run.sh -K)")
    a = ap.parse_args()
    d = a.out
    os.makedirs(d, exist_ok=True)
    work = os.path.join(d, "work.img")
    if a.resume:
        pass
    elif os.path.exists(work):
        os.unlink(work)
    if not a.resume:
        with open(work, "wb") as f:
            f.truncate(a.size)
        with open(work, "r+b") as f:
            f.seek(a.size - AREA)
            f.write(lsa.init_area(AREA, a.label_size))
        snap = os.path.join(d, "s0-init.img")
        shutil.copy(work, snap)
        record(d, a.fixture, "s0-init", snap, {"what": "empty index pair from lsa.py init, no guest action",
                                               "init_label_size": a.label_size})
        os.unlink(snap)
    with open(os.path.join(HERE, "labels", "lib.sh")) as f:
        lib = f.read()
    steps = STEPS[STEPS.index(a.resume):] if a.resume else STEPS
    if a.steps:
        steps = [x for x in steps if x in a.steps.split(",")]
    for st in steps:
        with open(os.path.join(HERE, "labels", st + ".sh")) as f:
            body = f.read()
        script = lib + "\n# ---- step " + st + "\n" + body
        sp = os.path.join(d, st + ".guest.sh")
        with open(sp, "w") as f:
            f.write(script)
        rc, out, s = run([os.path.join(HARNESS, "run.sh"), "-v", "-J", "-w", "-K", a.kernel, "-L", "128K", "-a", sp, work])
        with open(os.path.join(d, st + ".create.out"), "w") as f:
            f.write(out)
        snap = os.path.join(d, st + ".img")
        subprocess.run(["cp", "--sparse=always", work, snap], check=True)
        extra = {"what": "guest action on the previous step's image", "harness_cmd":
                 "run.sh -v -J -w -K " + a.kernel + " -L 128K -a GUEST.sh IMAGE", "guest_script": script,
                 "create_rc": rc, "create_wall_s": s,
                 "guest_output": [l[len("NDH-ACTION "):] for l in out.splitlines() if l.startswith("NDH-ACTION ")],
                 "create_verdict": lines(out, "NDH-VERDICT"), "create_nd": lines(out, "NDH-ND "),
                 "create_dmesg": lines(out, "NDH-DMESG")}
        record(d, a.fixture, st, snap, extra)
        if st == CORRUPT_AFTER:
            corrupt(d, a.fixture, snap)
        os.unlink(snap)


def corrupt(d, fx, base):
    """c1/c2: copies of BASE with one bit of byte 80 (free bitmap) flipped in
    the current index / in both indexes, so their checksums fail."""
    cur = lsa.dump(lsa_of(base))["current_index"]
    isize = 256
    for name, which in (("c1-corrupt-current-index", [cur]), ("c2-corrupt-both-indexes", [0, 1])):
        img = os.path.join(d, name + ".img")
        subprocess.run(["cp", "--sparse=always", base, img], check=True)
        flips = []
        with open(img, "r+b") as f:
            for i in which:
                off = os.path.getsize(img) - AREA + i * isize + 80  # a byte of the free bitmap
                f.seek(off)
                b = f.read(1)[0]
                f.seek(off)
                f.write(bytes([b ^ 0x01]))
                flips.append({"index": i, "offset_in_lsa": i * isize + 80, "old": b, "new": b ^ 1})
        record(d, fx, name, img, {"what": "copy of the " + os.path.basename(base) +
                                  " image with index bytes flipped (checksum now wrong)",
                                  "flipped": flips, "current_index_before": cur})
        os.unlink(img)


if __name__ == "__main__":
    main()

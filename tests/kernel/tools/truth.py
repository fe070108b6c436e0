#!/usr/bin/env python3
"""Kernel ground truth for BTT: one case = create, write, re-boot, record.

    truth.py btt NAME --size BYTES --ss SECTOR_SIZE [options]

1. A zero image of --size bytes is made in OUT/NAME/ (sparse).
2. The guest script tools/btt-guest.sh (with a header of parameters) runs
   under the harness with -w: the kernel makes a BTT on the label-less
   namespace (v1.1, info block at 4096), dd writes the sectors, the guest
   reads them back and prints their sha256.
3. The image is booted again on every kernel (no -a, no -w) and the
   NDH-VERDICT / NDH-JSON lines are kept.
4. OUT/NAME/NAME.json records all of it (+ the arenas decoded by
   btt_decode.py, this branch's own decoder); OUT/NAME/NAME.ndsparse holds
   the image's non-zero 4 KiB blocks. --fixture DIR copies both to DIR.
Sector content: the line "L%07dG%06d\\n" % (lba, generation) repeated and
cut to the logical block size. Never-written LBAs read as zeros.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import btt_decode  # noqa: E402
import ndsparse  # noqa: E402

HARNESS = os.environ.get(
    "NDH_HARNESS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig")
)  # the repository's kernel rig (tests/kernel/rig, same run.sh interface)


def pattern(lba, gen, lbs):
    line = b"L%07dG%06d\n" % (lba, gen)
    return (line * (lbs // len(line) + 1))[:lbs]


def run(cmd, env=None):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), round(time.time() - t0, 1)


def verdicts(out):
    v = [l for l in out.splitlines() if l.startswith("NDH-VERDICT")]
    j = [json.loads(l[len("NDH-JSON "):]) for l in out.splitlines() if l.startswith("NDH-JSON ")]
    other = [l for l in out.splitlines() if l.startswith(("NDH-REASON", "NDH-NOTE"))]
    return v, j, other


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["btt"])
    ap.add_argument("name")
    ap.add_argument("--size", required=True, type=lambda s: int(s, 0))
    ap.add_argument("--ss", required=True, type=int)
    ap.add_argument("--uuid", default="6b1f3e62-0d1c-4e8a-9a7b-1c2d3e4f5a60")
    ap.add_argument("--gens", type=int, default=60)
    ap.add_argument("--lbas", default="0 1 7 N/2 N-1")
    ap.add_argument("--once", default="3 N-2")
    ap.add_argument("--unwritten", default="2 N/2+1 N-3")
    ap.add_argument("--kernel", default="default")
    ap.add_argument("--reboot-kernels", default="all")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--out", default="/work/scratch/truth/btt")
    ap.add_argument("--fixture", default="")
    ap.add_argument("--keep-image", action="store_true")
    ap.add_argument("--no-reboot", action="store_true")
    a = ap.parse_args()

    d = os.path.join(a.out, a.name)
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, a.name + ".img")
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(a.size)
    header = (f"UUID={a.uuid}\nSS={a.ss}\nGENS={a.gens}\nLBAS_SPEC=\"{a.lbas}\"\n"
              f"ONCE_SPEC=\"{a.once}\"\nUNWRITTEN_SPEC=\"{a.unwritten}\"\n")
    with open(os.path.join(HERE, "btt-guest.sh")) as f:
        script = header + f.read()
    sp = os.path.join(d, a.name + ".guest.sh")
    with open(sp, "w") as f:
        f.write(script)
    env = dict(os.environ)
    if a.smp > 1:
        env["NDH_QEMU_ARGS"] = env["RIG_QEMU_ARGS"] = f"-smp {a.smp}"
    cmd = [os.path.join(HARNESS, "run.sh"), "-v", "-J", "-w", "-K", a.kernel, "-k", d, "-a", sp, img]
    rc, out, secs = run(cmd, env)
    with open(os.path.join(d, a.name + ".create.out"), "w") as f:
        f.write(out)
    rec = {"case": a.name, "what": "btt-kernel-created", "image_size": a.size,
           "sector_size": a.ss, "uuid": a.uuid, "gens": a.gens, "smp": a.smp,
           "harness_cmd": " ".join(["run.sh"] + cmd[1:-3] + ["-a", "GUEST.sh", "IMAGE"]),
           "guest_script": script, "create_rc": rc, "create_wall_s": secs}
    act = [l[len("NDH-ACTION "):] for l in out.splitlines() if l.startswith("NDH-ACTION ")]
    rec["guest_output"] = act
    sysfs = {}
    reads = {}
    info = {}
    for l in act:
        m = re.match(r"sysfs (\S+?)=(.*)", l)
        if m:
            sysfs[m.group(1)] = m.group(2)
        m = re.match(r"read lba=(\d+) sha256=(\w+)", l)
        if m:
            reads[int(m.group(1))] = m.group(2)
        for k in ("nlba", "writes", "bind_rc", "seed", "ncpu"):
            if l.startswith(k + "="):
                info[k] = l.split("=", 1)[1]
        m = re.match(r"blk size=(\d+) lbs=(\d+)", l)
        if m:
            info["blk_size_sectors"], info["logical_block_size"] = int(m.group(1)), int(m.group(2))
        m = re.match(r"lbas=(.*) once=(.*)", l)
        if m:
            info["lbas"] = [int(x) for x in m.group(1).split()]
            info["once"] = [int(x) for x in m.group(2).split()]
    rec["sysfs"] = sysfs
    rec["guest"] = info
    v, j, other = verdicts(out)
    rec["create_verdict"] = v
    rec["create_json"] = j
    rec["create_dmesg"] = [l for l in out.splitlines() if l.startswith("NDH-DMESG")]
    kv = re.search(r"kernel=(\S+)", v[0]).group(1) if v else None
    rec["create_kernel"] = kv
    lbs = info.get("logical_block_size")
    if lbs and reads:
        exp = {}
        for l in info.get("lbas", []):
            exp[l] = (a.gens, pattern(l, a.gens, lbs))
        for l in info.get("once", []):
            if l not in exp:
                exp[l] = (1, pattern(l, 1, lbs))
        per = []
        for l, h in reads.items():
            g, data = exp.get(l, (0, bytes(lbs)))
            eh = hashlib.sha256(data).hexdigest()
            per.append({"lba": l, "generation": g, "guest_sha256": h,
                        "expected_sha256": eh, "match": eh == h})
        rec["readback"] = per
    if not a.no_reboot and rc == 0:
        cmd2 = [os.path.join(HARNESS, "run.sh"), "-J", "-K", a.reboot_kernels, img]
        rc2, out2, s2 = run(cmd2)
        v2, j2, o2 = verdicts(out2)
        rec["reboot"] = {"cmd": "run.sh -J -K " + a.reboot_kernels + " IMAGE", "rc": rc2,
                         "verdicts": v2, "json": j2, "reasons_notes": o2}
    # decode (our own decoder)
    view = btt_decode.open_image(img)
    lbas = sorted(set(info.get("lbas", []) + info.get("once", []) + list(reads)))
    arenas = btt_decode.decode(view, 4096, lbas)
    for ar in arenas:
        ar.pop("flog_nondefault", None)
    rec["decoded_by_btt_decode_py"] = arenas
    if os.path.getsize(img) > (1 << 30):
        st = os.stat(img)
        rec["image_disk_used_bytes"] = st.st_blocks * 512
    nds = os.path.join(d, a.name + ".ndsparse")
    ndsparse.pack(img, nds)
    rec["ndsparse_bytes"] = os.path.getsize(nds)
    with open(os.path.join(d, a.name + ".json"), "w") as f:
        json.dump(rec, f, indent=1)
    if a.fixture:
        os.makedirs(a.fixture, exist_ok=True)
        shutil.copy(nds, a.fixture)
        shutil.copy(os.path.join(d, a.name + ".json"), a.fixture)
    if not a.keep_image:
        os.unlink(img)
    summ = {"case": a.name, "rc": rc, "verdict": v, "reboot": rec.get("reboot", {}).get("verdicts"),
            "readback_all_match": all(r["match"] for r in rec.get("readback", [])) if rec.get("readback") else None,
            "arenas": [{k: ar["info"][k] for k in ("external_nlba", "internal_nlba", "nfree", "internal_lbasize",
                                                    "dataoff", "mapoff", "logoff", "info2off", "nextoff")}
                       for ar in arenas], "ndsparse_bytes": rec["ndsparse_bytes"]}
    print(json.dumps(summ))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""live.py - live kernel cases for BTT, labels and probe (issue #17 items 2, 3).

Each scenario makes an image on the host with the crate's `infoblock` (or lets
the kernel make it in the guest), boots it with the kernel rig (run.sh; -w, -a,
-L, -b as needed), and compares what the kernel did with what `infoblock`
says, on the host and inside the guest. Any disagreement fails the run.

usage: tests/kernel/live/live.py --infoblock BIN [--kernels 6.1,6.12] [--jobs N]
                                 [--only NAME,...] [--keep DIR] [--no-boot]
  --infoblock BIN  a statically linked infoblock (rig/build-static.sh): it runs
                   on the host and, with run.sh -b, in the guest
  --kernels LIST   kernel release prefixes (default 6.1,6.12); one boot at a
                   time per kernel
  --jobs N         kernels run at the same time (default 2)
  --only LIST      scenarios (default all): btt-kernel, btt-corrupt,
                   btt-crate-4096, btt-crate-512, labels, probe-recorded
  --keep DIR       keep the images and console logs
  --no-boot        only probe-recorded (no qemu)
env: RIG_DIR (default tests/kernel/rig), RIG_TIMEOUT, RIG_CACHE, RIG_MEM
output: per kernel and scenario "ok"/"FAIL" lines, then
  live-suite: N checks passed, M failed (B boots, S s)
exit: 0 when every check passed, 1 otherwise, 2 on a usage error.
Python 3 standard library only.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_DIR = os.path.dirname(HERE)
RIG_DIR = os.environ.get("RIG_DIR", os.path.join(KERNEL_DIR, "rig"))
GUEST = os.path.join(HERE, "guest")
REGION = 0x100000000          # the rig's namespace / region start
MiB = 1 << 20
COOKIE_V12 = 0x00ba90120012b4dc  # tests/data/kernel/README.md: set_cookie of a v1.2 area
ZERO4K = bytes(4096)
# kernel mode attribute of a namespace -> the crate's verdict words
MODE = {"raw": "raw", "safe": "sector", "memory": "fsdax", "dax": "devdax"}


def pattern(lba, gen, lbs):
    """What guest/lib.sh wsect writes: "L%07dG%06d\\n" repeated, cut to lbs."""
    line = ("L%07dG%06d\n" % (lba, gen)).encode()
    return (line * (lbs // len(line) + 1))[:lbs]


def sparse_copy(src, dst):
    """Copy an image, leaving its all-zero 64 KiB blocks as holes (shutil.copyfile fills them)."""
    zero = bytes(1 << 16)
    with open(src, "rb") as f, open(dst, "wb") as g:
        while True:
            blk = f.read(1 << 16)
            if not blk:
                break
            if blk == zero[:len(blk)]:
                g.seek(len(blk), os.SEEK_CUR)
            else:
                g.write(blk)
        g.truncate(f.tell())


def sha(b):
    return hashlib.sha256(b).hexdigest()


def kv(line):
    """'a=1 b=x y' -> {'a': '1', 'b': 'x y'}: keys are words followed by '='."""
    out = {}
    key = None
    for word in line.split(" "):
        k, eq, v = word.partition("=")
        if eq and k and " " not in k and k.replace("_", "").replace(".", "").isalnum():
            key = k
            out[key] = v
        elif key is not None:
            out[key] += " " + word
    return out


class Boot:
    """One run.sh boot: the verdict (NDH-JSON), the action's lines, the nd devices."""

    def __init__(self, lines):
        self.lines = lines
        self.verdict = {}
        self.action = []
        self.states = []     # [(name, [nd device dicts])]
        for ln in lines:
            if ln.startswith("NDH-JSON "):
                try:
                    self.verdict = json.loads(ln[len("NDH-JSON "):])
                except ValueError:
                    pass
            elif ln.startswith("NDH-ACTION "):
                self.action.append(ln[len("NDH-ACTION "):])
            elif ln.startswith("NDH-STATE "):
                self.states.append((ln.split()[1], []))
            elif ln.startswith("NDH-ND ") and self.states:
                self.states[-1][1].append(kv(ln[len("NDH-ND "):]))

    def get(self, key, default=None):
        """The value of the action's 'key=value' line (the first)."""
        for ln in self.action:
            if ln.startswith(key + "="):
                return ln[len(key) + 1:]
        return default

    def rows(self, word):
        """The action's 'word k=v ...' lines as dicts."""
        return [kv(ln[len(word) + 1:]) for ln in self.action if ln.startswith(word + " ")]

    def reads(self, word):
        return {int(r["lba"]): r["sha256"] for r in self.rows(word)}

    def ib(self, tag):
        """An `ib TAG ...` run in the guest: (rc, parsed JSON or None, stderr line)."""
        rc = self.get(tag + ".rc")
        out = self.get(tag + ".out", "")
        try:
            js = json.loads(out) if out.strip() else None
        except ValueError:
            js = None
        return (int(rc) if rc is not None else None), js, self.get(tag + ".err", "")

    def namespaces(self, state=-1):
        """Namespaces with a size in a state: {uuid or name: dict}."""
        if not self.states:
            return {}
        nds = self.states[state][1]
        out = {}
        for d in nds:
            if not d.get("dev", "").startswith("namespace") or d.get("size", "0") in ("0", ""):
                continue
            out[d.get("uuid") or d["dev"]] = d
        return out

    def claimers(self, ns, state=-1):
        return [d for d in self.states[state][1]
                if d.get("namespace") == ns and d.get("driver", "none") != "none"]


class Run:
    """The scenarios of one kernel, one boot at a time."""

    def __init__(self, kernel, ib, tmp, keep):
        self.k = kernel
        self.ibin = ib
        self.tmp = tmp
        self.keep = keep
        self.out = []
        self.passed = 0
        self.failed = 0
        self.boots = 0
        self.boot_s = 0.0

    # ---- reporting
    def say(self, text):
        self.out.append("[%s] %s" % (self.k, text))

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            self.say("  ok   %s%s" % (what, (": " + detail) if detail else ""))
        else:
            self.failed += 1
            self.say("  FAIL %s%s" % (what, (": " + detail) if detail else ""))
        return cond

    def eq(self, what, got, want):
        shown = "%s" % (got,)
        if isinstance(got, dict) and len(shown) > 100:
            shown = "%d entries equal" % len(got)
        return self.ok(what, got == want, shown if got == want else "got %r, want %r" % (got, want))

    # ---- tools
    def ib(self, *args):
        p = subprocess.run([self.ibin] + [str(a) for a in args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace").strip()

    def ibjson(self, *args):
        rc, out, err = self.ib(*args)
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, err or out.decode("utf-8", "replace")[:200]

    def path(self, name):
        return os.path.join(self.tmp, name)

    def image(self, name, size):
        p = self.path(name)
        with open(p, "wb") as f:
            f.truncate(size)
        return p

    def boot(self, img, script=None, env=None, write=False, label=None, probe_state=False):
        cmd = [os.path.join(RIG_DIR, "run.sh"), "-J", "-v", "-K", self.k]
        if self.keep:
            cmd += ["-k", self.keep]
        if write:
            cmd.append("-w")
        if label:
            cmd += ["-L", label]
        if probe_state:
            cmd.append("-p")
        if script:
            act = self.path(os.path.basename(img) + ".action.sh")
            with open(act, "w") as f:
                for k, v in (env or {}).items():
                    f.write("%s='%s'\n" % (k, v))
                f.write("K='%s'\n" % self.k)
                for part in ("lib.sh", script):
                    with open(os.path.join(GUEST, part)) as g:
                        f.write(g.read())
            cmd += ["-a", act, "-b", self.ibin]
        cmd.append(img)
        t = time.time()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.boots += 1
        self.boot_s += time.time() - t
        lines = p.stdout.decode("utf-8", "replace").splitlines()
        b = Boot(lines)
        self.say("boot %s%s: verdict=%s (%.0f s)" % (
            os.path.basename(img), (" + " + script) if script else "",
            b.verdict.get("verdict", "error"), time.time() - t))
        if not b.verdict:
            self.ok("rig gave a verdict", False, "run.sh rc %d; last lines: %s"
                    % (p.returncode, " | ".join(lines[-5:])))
        return b

    def btt_reads(self, img, lbas, *extra):
        """sha256 of `infoblock btt read IMG --lba L` for each L (None on failure)."""
        out = {}
        for lba in lbas:
            rc, data, err = self.ib("btt", "read", img, "--lba", lba, *extra)
            out[lba] = sha(data) if rc == 0 else "rc %d: %s" % (rc, err)
        return out

    def expect_reads(self, b, lbs):
        """The content each LBA must have: the last generation wsect wrote, or zeros."""
        want = {}
        for r in b.rows("wrote"):
            want[int(r["lba"])] = sha(pattern(int(r["lba"]), int(r["gen"]), lbs))
        return want

    def check_guest_probe(self, b, tag, verdict, dev_size, sector_size=None):
        rc, js, err = b.ib(tag)
        if not self.ok("guest `%s`" % (b.get(tag + ".cmd") or tag), js is not None,
                       "rc %s, no JSON: %s" % (rc, err) if js is None else "rc %s" % rc):
            return
        self.eq("guest %s verdict" % tag, js.get("verdict"), verdict)
        self.eq("guest %s dev_size" % tag, js.get("dev_size"), dev_size)
        if sector_size is not None:
            self.eq("guest %s sector_size" % tag, js.get("sector_size"), sector_size)


# ------------------------------------------------------------------ scenarios

def btt_kernel(r, state):
    """The kernel makes a BTT (512) on a 256 MiB label-less namespace and writes sectors."""
    img = r.image("btt-kernel.img", 256 * MiB)
    env = {"UUID": "3c8f0a52-6d1e-4b7a-9e21-5f4a3b2c1d0e", "SS": "512",
           "WRITES": "0:1 1:1 7:1 N/2:1 N-1:1 3:1 0:2 7:2 N-1:2 0:3 N/2:2 0:4",
           "UNWRITTEN": "2 N-3"}
    b = r.boot(img, "btt-kernel.sh", env, write=True)
    if not r.ok("kernel made a btt device", b.get("btt_dev") is not None and
                b.get("blk_lbs") is not None, b.get("btt_dev") or " | ".join(b.action[-5:])):
        return
    btt_size, lbs, blk = int(b.get("btt_size")), int(b.get("blk_lbs")), int(b.get("blk_bytes"))
    r.say("  kernel: %s size %d, /dev/pmem0s %d bytes of %d-byte blocks"
          % (b.get("btt_dev"), btt_size, blk, lbs))
    r.eq("every guest write succeeded", [ln for ln in b.action if ln.startswith("write_failed")], [])
    kreads = b.reads("kread")
    want = r.expect_reads(b, lbs)
    for lba in kreads:
        want.setdefault(lba, sha(bytes(lbs)))  # the unwritten ones read zeros
    r.eq("kernel reads back what was written (%d LBAs)" % len(kreads), kreads, want)
    # the host: the crate on the image the kernel wrote
    r.eq("host `btt read` = kernel's /dev/pmem0s", r.btt_reads(img, sorted(kreads)), kreads)
    rc, out, err = r.ib("btt", "check", img)
    r.eq("host `btt check` exit", rc, 0)
    rc, js, err = r.ibjson("probe", img, "--ns-start", hex(REGION), "--kernel", r.k, "--json")
    if r.ok("host probe JSON", js is not None, err):
        r.eq("host probe verdict", js.get("verdict"), "sector")
        r.eq("host probe dev_size = btt sysfs size", js.get("dev_size"), btt_size)
        r.eq("host probe sector_size = logical block size", js.get("sector_size"), lbs)
        r.eq("host probe nlba x lbs = /dev/pmem0s bytes",
             (js.get("btt") or {}).get("nlba", 0) * lbs, blk)
    rc, js, err = r.ibjson("check", img, "--ns-start", hex(REGION), "--kernel", r.k, "--json")
    if r.ok("host check JSON", js is not None, err):
        r.eq("host check verdict/dev_size", (js.get("verdict"), js.get("dev_size")),
             ("sector", btt_size))
    # the guest: infoblock against the kernel's sysfs and /dev/pmem0
    rc, js, err = b.ib("g_probe_claimed")
    r.ok("guest `probe namespace0.0` while the btt holds it: exit 2, says claimed",
         rc == 2 and "claimed" in err, "rc %s: %s" % (rc, err))
    r.say("  guest raw view: %s" % b.get("rig_raw"))
    r.check_guest_probe(b, "g_probe", "sector", btt_size, lbs)
    r.check_guest_probe(b, "g_check", "sector", btt_size)
    r.check_guest_probe(b, "g_check_ns", "sector", btt_size)
    rc, js, err = b.ib("g_bttcheck")
    r.eq("guest `btt check /dev/pmem0 --namespace namespace0.0` exit", rc, 0)
    r.eq("guest `btt read` = kernel's /dev/pmem0s", b.reads("gread"), kreads)
    state.update(img=img, kreads=kreads, btt_size=btt_size, lbs=lbs)


def btt_corrupt(r, state):
    """A byte of the kernel-made BTT's primary info block flipped; repaired by the crate."""
    if "img" not in state:
        r.ok("btt-kernel's image", False, "btt-kernel did not run or failed")
        return
    img = r.path("btt-corrupt.img")
    sparse_copy(state["img"], img)
    with open(img, "r+b") as f:
        f.seek(4096)
        good = f.read(4096)
        f.seek(4096 + 16)                 # the first byte of the BTT uuid
        f.write(bytes([good[16] ^ 0xff]))
    rc, js, err = r.ibjson("check", img, "--ns-start", hex(REGION), "--kernel", r.k, "--json")
    r.eq("host check verdict (corrupt)", js and js.get("verdict"), "raw")
    rc, js, err = r.ibjson("probe", img, "--ns-start", hex(REGION), "--kernel", r.k, "--json")
    r.eq("host probe exit/verdict (corrupt)", (rc, js and js.get("verdict")), (1, "raw"))
    rc, js, err = r.ibjson("btt", "check", img, "--json")
    found = [(f.get("kind"), f.get("arena"), (f.get("values") or {}).get("copy"),
              (f.get("values") or {}).get("offset"), (f.get("values") or {}).get("reason"))
             for f in (js or {}).get("findings", [])]
    r.eq("host `btt check` exit (corrupt)", rc, 1)
    r.eq("host `btt check` names the primary info block", found,
         [("info_invalid", 0, "primary", 4096, "checksum_mismatch")])
    b = r.boot(img, "raw.sh", probe_state=True)
    r.eq("kernel verdict (corrupt)", b.verdict.get("verdict"), "raw")
    r.check_guest_probe(b, "g_probe", "raw", 256 * MiB)
    r.check_guest_probe(b, "g_check", "raw", None)
    rc, out, err = r.ib("btt", "check", img, "--repair")
    r.say("  `btt check --repair`: exit %d: %s" % (rc, err or out.decode()[:200]))
    rc, out, err = r.ib("btt", "check", img)
    r.eq("host `btt check` exit after --repair", rc, 0)
    with open(img, "rb") as f:
        f.seek(4096)
        r.eq("repaired primary info block = the kernel's", f.read(4096) == good, True)
    b = r.boot(img, "btt-use.sh", {"WRITES": "", "UNWRITTEN": "",
                                   "READS": " ".join(str(x) for x in sorted(state["kreads"]))},
               probe_state=True)
    r.eq("kernel verdict (repaired)", (b.verdict.get("verdict"), b.verdict.get("dev_size")),
         ("sector", state["btt_size"]))
    r.eq("kernel reads every sector written before", b.reads("kread"), state["kreads"])
    r.check_guest_probe(b, "g_probe", "sector", state["btt_size"], state["lbs"])


def btt_crate(r, ss):
    """`infoblock btt create` on a 256 MiB image; the kernel attaches it, writes, reads."""
    img = r.image("btt-crate-%d.img" % ss, 256 * MiB)
    uuid = "7d2e9c41-0b3a-4f6e-8d5c-%012d" % ss
    rc, out, err = r.ib("btt", "create", img, "--sector-size", ss, "--uuid", uuid)
    if not r.eq("host `btt create --sector-size %d` exit" % ss, rc, 0):
        r.say("    %s" % err)
        return
    rc, out, err = r.ib("btt", "check", img)
    r.eq("host `btt check` exit (fresh)", rc, 0)
    rc, pj, err = r.ibjson("probe", img, "--ns-start", hex(REGION), "--kernel", r.k, "--json")
    if not r.ok("host probe JSON", pj is not None and pj.get("verdict") == "sector",
                err or (pj and pj.get("verdict"))):
        return
    env = {"WRITES": "0:1 1:1 N/2:1 N-1:1 0:2 N-1:2 5:1", "UNWRITTEN": "2 N-2", "READS": ""}
    b = r.boot(img, "btt-use.sh", env, write=True, probe_state=True)
    v = b.verdict
    r.eq("kernel verdict", v.get("verdict"), "sector")
    r.eq("kernel btt size = probe dev_size", v.get("dev_size"), pj.get("dev_size"))
    # sysfs sector_size lists the supported sizes with the chosen one in brackets
    chosen = [w.strip("[]") for w in str(v.get("sector_size")).split(",") if w.startswith("[")]
    r.eq("kernel btt sector_size", chosen, [str(ss)])
    r.eq("kernel logical block size = probe sector_size", b.get("blk_lbs"),
         str(pj.get("sector_size")))
    r.eq("kernel uuid = --uuid", v.get("dev_uuid"), uuid)
    lbs = pj.get("sector_size") or 512
    r.eq("every guest write succeeded", [ln for ln in b.action if ln.startswith("write_failed")], [])
    kreads = b.reads("kread")
    want = r.expect_reads(b, lbs)
    for lba in kreads:
        want.setdefault(lba, sha(bytes(lbs)))
    r.eq("kernel reads back what was written (%d LBAs)" % len(kreads), kreads, want)
    r.eq("host `btt read` = kernel's /dev/pmem0s", r.btt_reads(img, sorted(kreads)), kreads)
    rc, out, err = r.ib("btt", "check", img)
    r.eq("host `btt check` exit (after the kernel's writes)", rc, 0)
    r.check_guest_probe(b, "g_probe", "sector", pj.get("dev_size"), pj.get("sector_size"))


def labels(r, state):
    """Labels written by `infoblock labels`, read and changed by the kernel (-L 128K)."""
    size = 256 * MiB
    img = r.image("labels.img", size + 128 * 1024)
    ua, ub, uc = ("a1a1a1a1-0000-4000-8000-00000000000a", "b2b2b2b2-0000-4000-8000-00000000000b",
                  "c3c3c3c3-0000-4000-8000-00000000000c")
    lab = ["--tail", "128K"]
    rc, out, err = r.ib("labels", "init", img, *lab)
    r.eq("host `labels init --tail 128K` exit", rc, 0)
    rc, out, err = r.ib("labels", "add", img, *lab, "--uuid", ua, "--name", "alpha",
                        "--size", "64M", "--isetcookie", hex(COOKIE_V12))
    r.ok("host `labels add alpha 64M` exit 0", rc == 0, err)
    rc, out, err = r.ib("labels", "add", img, *lab, "--uuid", ub, "--name", "beta",
                        "--size", "64M", "--claim", "btt2")
    r.ok("host `labels add beta 64M --claim btt2` exit 0", rc == 0, err)
    rc, js, err = r.ibjson("labels", "list", img, *lab, "--json")
    nss = {n["uuid"]: n for n in (js or {}).get("namespaces", [])}
    if not r.eq("host `labels list` namespaces", sorted(nss), sorted([ua, ub])):
        return
    r.eq("labels carry the rig's v1.2 isetcookie",
         sorted(set(lb["isetcookie"] for lb in js["label"] if lb["active"])), [COOKIE_V12])
    # a BTT 2.0 on beta, made by the crate on a file of beta's size and copied in
    beta = r.image("beta.img", 64 * MiB)
    rc, out, err = r.ib("btt", "create", beta, "--sector-size", 4096, "--version", "2.0",
                        "--parent-uuid", ub, "--uuid", "b2b2b2b2-0000-4000-8000-0000000000bb")
    r.ok("host `btt create --version 2.0` for beta exit 0", rc == 0, err)
    rc, bj, err = r.ibjson("probe", beta, "--ns-start", hex(REGION + nss[ub]["dpa"]),
                           "--parent-uuid", ub, "--claim", "btt2", "--kernel", r.k, "--json")
    with open(beta, "rb") as src, open(img, "r+b") as dst:
        off = 0
        while True:
            blk = src.read(4096)
            if not blk:
                break
            if blk != ZERO4K:
                dst.seek(nss[ub]["dpa"] + off)
                dst.write(blk)
            off += len(blk)
    rc, js, err = r.ibjson("labels", "list", img, *lab, "--region-start", hex(REGION),
                           "--kernel", r.k, "--json")
    want = {n["uuid"]: (n["name"], str(n["size"]), hex(REGION + n["dpa"]), n["mode"])
            for n in (js or {}).get("namespaces", [])}
    r.say("  labels list predicts: %s" % sorted(want.values()))

    def shown(b, state=-1):
        return {u: (d.get("alt_name"), d.get("size"), d.get("resource"),
                    MODE.get(d.get("mode"), d.get("mode")))
                for u, d in b.namespaces(state).items()}

    env = {"PROBE_UUID": ua, "CLAIMED_UUID": ub, "NEW_UUID": uc, "NEW_NAME": "gamma",
           "NEW_SIZE": str(32 * MiB), "DEL_UUID": ua}
    b = r.boot(img, "labels.sh", env, write=True, label="128K")
    try:
        cookie = int(b.get("set_cookie"), 16)
    except (TypeError, ValueError):
        cookie = b.get("set_cookie")
    r.eq("kernel region0/set_cookie = the labels' isetcookie", cookie, COOKIE_V12)
    r.eq("the region is label-capable: nd_namespace_pmem namespaces and seed, no io namespace",
         sorted(set(d.get("devtype") for d in (b.states[0][1] if b.states else [])
                    if d.get("dev", "").startswith("namespace"))), ["nd_namespace_pmem"])
    r.eq("kernel's namespaces at probe = `labels list` (uuid, name, size, resource, mode)",
         shown(b, 0), want)
    btts = [d for d in b.states[0][1] if d.get("devtype") == "nd_btt"
            and d.get("driver", "none") != "none"] if b.states else []
    r.eq("kernel btt size on beta = host probe of beta's BTT 2.0",
         [d.get("size") for d in btts], [str((bj or {}).get("dev_size"))])
    r.check_guest_probe(b, "g_probe", "raw", 64 * MiB)
    rc, js, err = b.ib("g_probe_claimed")
    r.ok("guest probe of beta (claimed by a btt): exit 2, says claimed",
         rc == 2 and "claimed" in err, "rc %s: %s" % (rc, err))
    r.say("  guest: %s; %s" % (b.get("created"), b.get("deleted")))
    rc, js, err = r.ibjson("labels", "list", img, *lab, "--region-start", hex(REGION),
                           "--kernel", r.k, "--json")
    after = {n["uuid"]: (n["name"], str(n["size"]), hex(REGION + n["dpa"]), n["mode"])
             for n in (js or {}).get("namespaces", [])}
    r.eq("`labels list` after the kernel's create/delete = the kernel's namespaces",
         after, shown(b, -1))
    r.eq("the kernel created gamma and deleted alpha", sorted(after), sorted([ub, uc]))
    # one index corrupted (the older one, then the current one), then both: bit 0 of
    # byte 80 of an index block (a byte of its free bitmap), so its checksum fails
    cur = [i["offset"] for i in (js or {}).get("index", []) if i.get("current")]
    old = [o for o in (0, 256) if o not in cur]
    lsa = size
    c0 = r.path("labels-c0.img")
    sparse_copy(img, c0)
    with open(c0, "r+b") as f:
        for o in old:
            f.seek(lsa + o + 80)
            x = f.read(1)[0]
            f.seek(lsa + o + 80)
            f.write(bytes([x ^ 1]))
    rc, js, err = r.ibjson("labels", "list", c0, *lab, "--region-start", hex(REGION),
                           "--kernel", r.k, "--json")
    c0want = {n["uuid"]: (n["name"], str(n["size"]), hex(REGION + n["dpa"]), n["mode"])
              for n in (js or {}).get("namespaces", [])}
    r.eq("host `labels list` with the older index corrupted = before", c0want, after)
    b = r.boot(c0, label="128K")
    r.eq("kernel's namespaces with the older index corrupted = `labels list`", shown(b), c0want)
    c1 = r.path("labels-c1.img")
    sparse_copy(img, c1)
    with open(c1, "r+b") as f:
        for o in cur:
            f.seek(lsa + o + 80)
            x = f.read(1)[0]
            f.seek(lsa + o + 80)
            f.write(bytes([x ^ 1]))
    rc, js, err = r.ibjson("labels", "list", c1, *lab, "--region-start", hex(REGION),
                           "--kernel", r.k, "--json")
    c1want = {n["uuid"]: (n["name"], str(n["size"]), hex(REGION + n["dpa"]), n["mode"])
              for n in (js or {}).get("namespaces", [])}
    r.say("  current index (at +%s) corrupted: labels list says %s; same as before: %s"
          % (cur, sorted(c1want.values()), c1want == after))
    b = r.boot(c1, label="128K")
    r.eq("kernel's namespaces with the current index corrupted = `labels list`", shown(b),
         c1want)
    c2 = r.path("labels-c2.img")
    sparse_copy(c1, c2)
    with open(c2, "r+b") as f:
        for o in (0, 256):
            if o in cur:
                continue
            f.seek(lsa + o + 80)
            x = f.read(1)[0]
            f.seek(lsa + o + 80)
            f.write(bytes([x ^ 1]))
    rc, js, err = r.ibjson("labels", "list", c2, *lab, "--json")
    r.eq("host `labels list` with both indexes corrupted: exit 1, label-less",
         (rc, (js or {}).get("label_less")), (1, True))
    b = r.boot(c2, label="128K")
    io = [d for d in (b.states[-1][1] if b.states else [])
          if d.get("devtype") == "nd_namespace_io"]
    r.eq("kernel with both indexes corrupted: one label-less io namespace of the whole pmem",
         [(d.get("dev"), d.get("size")) for d in io], [("namespace0.0", str(size))])
    rc, js, err = r.ibjson("probe", c2, "--ns-start", hex(REGION), "--ns-size", size,
                           "--kernel", r.k, "--json")
    r.eq("host probe of the label-less namespace = kernel verdict",
         (js or {}).get("verdict"), b.verdict.get("verdict"))


def probe_recorded(runs, ib):
    """`infoblock probe` on every pfn/dax suite image vs recorded.json (no boot)."""
    suite = json.load(open(os.path.join(KERNEL_DIR, "suite.json")))
    rec = json.load(open(os.path.join(KERNEL_DIR, "recorded.json")))["cases"]
    cases = suite["cases"] if isinstance(suite, dict) else suite
    for r in runs:
        n = bad = 0
        with tempfile.TemporaryDirectory(prefix="live-probe.") as tmp:
            for c in cases:
                name = c["name"]
                kern = rec.get(name, {}).get(r.k)
                if kern is None:
                    continue
                img = os.path.join(tmp, "img")
                with open(img, "wb") as f:
                    f.truncate(c["ns_size"])
                    f.seek(0)
                    f.write(open(os.path.join(KERNEL_DIR, "cases", name + ".head"), "rb").read())
                rc, js, err = r.ibjson("probe", img, "--ns-start", hex(REGION), "--kernel",
                                       r.k, "--json")
                js = js or {}
                got = {"verdict": js.get("verdict"), "dev_size": js.get("dev_size"),
                       "data_start": (js.get("data") or {}).get("start")}
                want = {"verdict": kern["verdict"], "dev_size": kern.get("dev_size"),
                        "data_start": kern.get("data_start_off")}
                if kern["verdict"] == "raw":
                    # raw: probe's dev_size and data are the whole namespace
                    want.update(dev_size=kern.get("blk_bytes"), data_start=0)
                n += 1
                if got != want or rc != (0 if want["verdict"] in ("fsdax", "devdax") else 1):
                    bad += 1
                    r.ok("probe %s" % name, False, "rc %d, got %s, kernel %s" % (rc, got, want))
        r.ok("probe-recorded: `probe --kernel %s` = the recorded kernel on %d suite images"
             % (r.k, n), bad == 0 and n > 0, "%d differ" % bad if bad else "")


SCENARIOS = ["btt-kernel", "btt-corrupt", "btt-crate-4096", "btt-crate-512", "labels",
             "probe-recorded"]


def run_kernel(r, only):
    state = {}
    steps = [("btt-kernel", lambda: btt_kernel(r, state)),
             ("btt-corrupt", lambda: btt_corrupt(r, state)),
             ("btt-crate-4096", lambda: btt_crate(r, 4096)),
             ("btt-crate-512", lambda: btt_crate(r, 512)),
             ("labels", lambda: labels(r, state))]
    for name, fn in steps:
        if name not in only:
            continue
        r.say("== %s" % name)
        t = time.time()
        try:
            fn()
        except Exception as e:  # a scenario that breaks is a failure, not a crash of the run
            r.ok("%s ran to the end" % name, False, "%s: %s" % (type(e).__name__, e))
        r.say("   %s: %.0f s" % (name, time.time() - t))


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--infoblock", required=True)
    ap.add_argument("--kernels", default="6.1,6.12")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default=",".join(SCENARIOS))
    ap.add_argument("--keep")
    ap.add_argument("--no-boot", action="store_true")
    a = ap.parse_args()
    only = [s for s in a.only.split(",") if s]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        print("live.py: unknown scenario %s (have: %s)" % (unknown, " ".join(SCENARIOS)),
              file=sys.stderr)
        return 2
    if a.no_boot:
        only = [s for s in only if s == "probe-recorded"]
    ib = os.path.abspath(a.infoblock)
    if not os.access(ib, os.X_OK):
        print("live.py: no executable %s" % ib, file=sys.stderr)
        return 2
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="live-suite.")
    runs = []
    try:
        for k in [k for k in a.kernels.split(",") if k]:
            d = os.path.join(a.keep, k) if a.keep else os.path.join(tmp, k)
            os.makedirs(d, exist_ok=True)
            if a.keep:
                os.makedirs(os.path.join(d, "logs"), exist_ok=True)
            runs.append(Run(k, ib, d, os.path.join(d, "logs") if a.keep else None))
        if "probe-recorded" in only:
            probe_recorded(runs, ib)
        booting = [s for s in only if s != "probe-recorded"]
        if booting:
            pending = list(runs)
            lock = threading.Lock()

            def worker():
                while True:
                    with lock:
                        if not pending:
                            return
                        r = pending.pop(0)
                    run_kernel(r, booting)
            threads = [threading.Thread(target=worker) for _ in range(max(1, a.jobs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    for r in runs:
        print("\n".join(r.out))
    passed = sum(r.passed for r in runs)
    failed = sum(r.failed for r in runs)
    boots = sum(r.boots for r in runs)
    print("live-suite: %d checks passed, %d failed (%d boots, %.0f s of boots, %.0f s wall)"
          % (passed, failed, boots, sum(r.boot_s for r in runs), time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

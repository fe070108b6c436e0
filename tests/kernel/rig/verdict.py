#!/usr/bin/env python3
"""Judge a guest console log of the kernel rig (Python 3 standard library only).

    verdict.py [--json] [--state probe|last] [--image NAME] [--kernel REL]
               [--boot-seconds S] [--qemu-rc RC] CONSOLE_LOG

prints one line

    NDH-VERDICT image=NAME verdict=V ns=... kernel=REL boot_s=S

then NDH-REASON lines (kernel messages of level <= 4; a WARN splat is cut to
its "WARNING:" line), NDH-NOTE lines (level 5..6 messages of the nd/dax
drivers), and with --json one NDH-JSON line holding every field plus the
lists "reasons", "notes" and (when an action ran) "action".

V is what libnvdimm made of the namespace:
  fsdax     a pfn device claimed it and nd_pmem enabled it (/dev/pmemN)
  devdax    a dax device claimed it and dax_pmem enabled it (/dev/daxN.M)
  sector    a btt device claimed it and nd_pmem enabled it (/dev/pmemNs)
  raw       nd_pmem bound the namespace itself: no info-block was taken
  rejected  nothing usable: stage=validate when no device holds a claim (the
            block was refused while probing), stage=enable when a device
            claimed the namespace and then failed to enable
  error     no complete report from the guest (the rig failed)

The guest reports the state after probing ("NDH-STATE probe") and, when an
action script ran, again after it ("NDH-STATE action"). --state last (the
default) judges the last report; --state probe judges the one before the
action, with the kernel messages logged up to then.

reason= is the first kernel error as one token that is the same on 6.1 and
6.12: "probe ... failed with error -N" becomes probe_failed_-N, a leading
"driver device: " is dropped, device instance numbers are dropped
(pfn0.1 -> pfn), and every run of other characters becomes "_".
"""
import argparse
import json
import re
import sys

CLAIM_TYPES = ("nd_pfn", "nd_dax", "nd_btt")
NOTE_PREFIX = re.compile(r"(nd|nd_pmem|dax_pmem|nd_pfn|nd_dax|btt|nd_btt|pfn\d\S*|dax\d\S*) ")
DMESG = re.compile(r"<(\d+)>\[\s*[\d.]+\]\s*(.*)")
PROBE_END = re.compile(r"END: (\w+)\.probe\(([\w.]+)\) = (-?\d+)")
IGNORED = ("unknown dimm command family",)


def kv(text):
    """'a=1 b=x' -> {'a': '1', 'b': 'x'} (tokens without '=' are skipped)."""
    return dict(t.split("=", 1) for t in text.split() if "=" in t)


class State:
    """One report of the guest: nd devices, block devices, dax devices, and
    the kernel messages logged since the previous report."""

    def __init__(self, name):
        self.name = name
        self.nd = {}
        self.blk = []
        self.dax = []
        self.dmesg = []


def parse_log(lines):
    """Console lines -> (states in order, action output lines, done flag)."""
    states, action, done = [], [], False
    cur = None
    for line in lines:
        tag, _, rest = line.partition(" ")
        if tag == "NDH-STATE":
            cur = State(rest.split()[0] if rest else "?")
            states.append(cur)
        elif tag == "NDH-ACTION":
            action.append(rest)
        elif tag == "NDH-DONE":
            done = True
        elif cur is None:
            continue
        elif tag == "NDH-ND":
            d = kv(rest)
            cur.nd[d.get("dev")] = d
        elif tag == "NDH-BLK":
            cur.blk.append(kv(rest))
        elif tag == "NDH-DAX":
            cur.dax.append(kv(rest))
        elif tag == "NDH-DMESG":
            cur.dmesg.append(rest)
    return states, action, done


def pick_namespace(nd):
    """The label-less io namespace, else the first labelled one with capacity."""
    for name, d in nd.items():
        if d.get("devtype") == "nd_namespace_io":
            return name
    for name in sorted(nd):
        d = nd[name]
        if d.get("devtype") == "nd_namespace_pmem" and d.get("size", "0") != "0":
            return name
    return None


def reason_token(reasons):
    """The first non-WARN kernel error as one stable token."""
    plain = [t for t in reasons if not t.startswith("WARNING:")]
    text = (plain or reasons)[0]
    m = re.search(r"probe .*failed with error (-?\d+)", text)
    if m:
        # 6.1: "nd_pmem: probe of pfn0.0 failed with error -12"
        # 6.12: "nd_pmem pfn0.0: probe with driver nd_pmem failed with error -12"
        text = "probe failed " + m.group(1)
    text = re.sub(r"^(?:[\w-]+ )?(?:[a-z_]+\d+(?:\.\d+)?|[\w-]+): ", "", text)
    text = re.sub(r"\b(pfn|dax|btt|namespace)\d+\.\d+\b", r"\1", text)
    return re.sub(r"[^\w.:-]+", "_", text).strip("_")


def messages(dmesg):
    """Kernel lines -> (reasons, notes)."""
    reasons, notes, splat = [], [], False
    for line in dmesg:
        m = DMESG.match(line)
        if not m:
            continue
        level, text = int(m.group(1)) & 7, m.group(2).strip()
        if "[ cut here ]" in text:
            splat = True
            continue
        if splat:
            if text.startswith("---[ end trace"):
                splat = False
            elif text.startswith("WARNING:"):
                reasons.append(text)
            continue
        if any(s in text for s in IGNORED):
            continue
        if level <= 4:
            reasons.append(text)
        elif level <= 6 and NOTE_PREFIX.match(text):
            notes.append(text)
    return reasons, notes


def judge(state, dmesg):
    """-> (verdict, [(key, value)...]) for one state."""
    nd = state.nd
    ns = pick_namespace(nd)
    if ns is None:
        return "error", [("error", "no-namespace-found")]
    nsd = nd[ns]
    fields = [("ns", ns), ("ns_start", nsd.get("resource")), ("ns_size", nsd.get("size")),
              ("ns_mode", nsd.get("mode"))]
    if nsd.get("devtype") == "nd_namespace_pmem":
        fields += [("ns_uuid", nsd.get("uuid")), ("ns_name", nsd.get("alt_name"))]
    claimers = {n: d for n, d in nd.items()
                if d.get("namespace") == ns and d.get("devtype") in CLAIM_TYPES}

    def block_of(parent):
        return next((b for b in state.blk if b.get("parent") == parent), None)

    verdict = None
    for name in sorted(claimers):
        d = claimers[name]
        if d.get("driver", "none") == "none":
            continue
        kind = d["devtype"]
        dev = [("dev", name), ("dev_size", d.get("size")), ("dev_resource", d.get("resource")),
               ("dev_align", d.get("align")), ("dev_uuid", d.get("uuid"))]
        if kind in ("nd_pfn", "nd_dax"):
            # the pfn/dax "mode" attribute: pmem = memmap on the device (map=dev),
            # ram = memmap in RAM (map=mem)
            dev.append(("map", {"pmem": "dev", "ram": "mem"}.get(d.get("mode"), d.get("mode", "?"))))
            try:
                dev.append(("data_start_off",
                            str(int(d["resource"], 16) - int(nsd["resource"], 16))))
            except (KeyError, ValueError):
                pass
        b = block_of(name)
        if kind == "nd_pfn" and b:
            verdict = "fsdax"
            dev += [("blk", b["dev"]), ("blk_bytes", b["bytes"]), ("blk_dax", b.get("dax"))]
        elif kind == "nd_dax":
            verdict = "devdax"
            if state.dax:
                x = state.dax[0]
                dev += [("daxdev", x["dev"]), ("dax_size", x.get("size")),
                        ("dax_align", x.get("align")), ("dax_resource", x.get("resource"))]
        elif kind == "nd_btt":
            verdict = "sector"
            if b:
                dev += [("blk", b["dev"]), ("blk_bytes", b["bytes"]),
                        ("sector_size", d.get("sector_size"))]
        if verdict:
            fields += dev
            break
    if verdict is None:
        b = block_of(ns)
        if nsd.get("driver") == "nd_pmem" and b:
            verdict = "raw"
            fields += [("blk", b["dev"]), ("blk_bytes", b["bytes"])]
        else:
            verdict = "rejected"
            fields.append(("stage", "enable" if claimers else "validate"))
            if claimers:
                fields.append(("claimed_by", ",".join(sorted(claimers))))
    probes = []
    for line in dmesg:
        m = PROBE_END.search(line)
        if m and (m.group(2) == ns or m.group(2) in claimers):
            probes.append("%s:%s=%s" % m.groups())
    fields.append(("probes", ",".join(probes) or "none"))
    return verdict, fields


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("--image", default="?")
    ap.add_argument("--kernel", default="?")
    ap.add_argument("--boot-seconds", default="?")
    ap.add_argument("--qemu-rc", default="0")
    ap.add_argument("--state", choices=("last", "probe"), default="last")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    with open(a.log, "rb") as f:
        lines = [r.decode("utf-8", "replace").rstrip("\r\n") for r in f]
    out, rc = render(lines, a.image, a.kernel, a.boot_seconds, a.qemu_rc, a.state, a.json)
    print("\n".join(out))
    return rc


def render(lines, image, kernel, boot_s, qemu_rc, which="last", want_json=False):
    """Console lines -> (output lines, 0 or 1 when the rig failed)."""
    head = "NDH-VERDICT image=%s" % image
    tail = "kernel=%s boot_s=%s" % (kernel, boot_s)
    states, action, done = parse_log(lines)
    if not done or not states:
        return ["%s verdict=error error=no-guest-report qemu_rc=%s %s" % (head, qemu_rc, tail)], 1
    if which == "probe":
        state = states[0]
        dmesg = state.dmesg
    else:
        state = states[-1]
        dmesg = [m for s in states for m in s.dmesg]
    verdict, fields = judge(state, dmesg)
    if verdict == "error":
        return ["%s verdict=error error=%s %s" % (head, fields[0][1], tail)], 1
    reasons, notes = messages(dmesg)
    if verdict == "rejected" and reasons:
        fields.append(("reason", reason_token(reasons)))
    out = ["%s verdict=%s %s %s" % (head, verdict,
                                    " ".join("%s=%s" % (k, v) for k, v in fields), tail)]
    out += ["NDH-REASON " + t for t in reasons]
    out += ["NDH-NOTE " + t for t in notes]
    if want_json:
        rec = {"image": image, "verdict": verdict, "kernel": kernel, "boot_s": boot_s,
               "reasons": reasons, "notes": notes, "state": state.name}
        if action:
            rec["action"] = action
        for k, v in fields:
            v = "None" if v is None else v
            rec[k] = int(v) if re.fullmatch(r"\d+", v) else v
        out.append("NDH-JSON " + json.dumps(rec, sort_keys=True))
    return out, 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Print the README's case table (markdown) from suite.json and recorded.json.

    python3 table.py            # the table
    python3 table.py --surprises  # only cases where a kernel differs from gen.py's prediction

Columns: case, image size, key block fields, then per kernel the verdict
(fsdax/devdax/raw/rejected[validate|enable]) with dev_size / dev_align or the
kernel's reason token.
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def size_str(n):
    if n is None:
        return "-"
    for unit, s in ((1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")):
        if n >= unit and n % unit == 0:
            return "%d%s" % (n // unit, s)
    if n >= 1 << 20:
        return "%.2fM" % (n / (1 << 20))
    return str(n)


def fields_str(b):
    if b is None:
        return "(all zero)"
    sig = "DAX" if b["signature"].startswith("NVDIMM_DAX") else "PFN"
    if b["signature"] not in ("NVDIMM_PFN_INFO\0", "NVDIMM_DAX_INFO\0"):
        sig = repr(b["signature"].rstrip("\0"))[1:-1].replace("|", "\\|") + "*"
    parts = [sig, "v%d.%d" % (b["version_major"], b["version_minor"]),
             "m%d" % b["mode"], "off " + size_str(b["dataoff"]), "al " + size_str(b["align"])]
    if b["start_pad"]:
        parts.append("sp " + size_str(b["start_pad"]))
    if b["end_trunc"]:
        parts.append("et " + size_str(b["end_trunc"]))
    return " ".join(parts)


def verdict_str(r):
    if r is None:
        return "(not run)"
    v = r["verdict"]
    if v == "rejected":
        s = "rejected/%s: %s" % (r.get("stage"), r.get("reason") or "(no message)")
        return s.replace("|", "\\|")
    if v in ("fsdax", "devdax"):
        return "%s %s @+%s al %s" % (v, size_str(r["dev_size"]),
                                     size_str(r["data_start_off"]), size_str(r["dev_align"]))
    return v


def short(r):
    if r is None:
        return None
    return r["verdict"] + ("/" + r["stage"] if r.get("stage") else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--surprises", action="store_true")
    a = ap.parse_args()
    suite = json.load(open(os.path.join(HERE, "suite.json")))
    rec = json.load(open(os.path.join(HERE, "recorded.json")))["cases"]
    kernels = sorted({k for c in rec.values() for k in c}, key=lambda k: [int(x) for x in k.split(".")])
    if a.surprises:
        for c in suite["cases"]:
            r = rec.get(c["name"], {})
            for k in kernels:
                want, got = c["predict"].get(k), short(r.get(k))
                if want != got:
                    print("%-32s %-5s predicted %-18s got %s" % (c["name"], k, want, verdict_str(r.get(k))))
        return 0
    print("| # | case | image | block | " + " | ".join("Linux " + k for k in kernels) + " |")
    print("|---|---|---|---|" + "---|" * len(kernels))
    for i, c in enumerate(suite["cases"], 1):
        r = rec.get(c["name"], {})
        cols = [verdict_str(r.get(k)) for k in kernels]
        print("| %d | `%s` | %s | %s | %s |" % (i, c["name"], size_str(c["ns_size"]),
                                             fields_str(c["block"]), " | ".join(cols)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

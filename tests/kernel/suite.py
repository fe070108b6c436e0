#!/usr/bin/env python3
"""Helper for run-suite.sh (Python 3 standard library only).

    suite.py cases SUITE [--only a,b]          print "NAME NS_SIZE" per case
    suite.py kernels FILE                      short kernel names ("6.1") in NDH-JSON lines
    suite.py recorded-kernels RECORDED NAME    short kernel names recorded for a case
    suite.py collect SUITE OUTDIR LIVE         NDH-JSON lines of OUTDIR/NAME.out -> LIVE
    suite.py offline-live RECORDED LIVE [--only a,b]   LIVE := recorded answers
    suite.py guest-cmd SUITE NAME              the case's "guest_cmd" (empty if none)
    suite.py guest-raw SUITE NAME              1, or 0 when the case says "guest_raw": false
    suite.py has-guest-cmd SUITE [--only a,b]  exit 0 if a selected case has a guest_cmd
    suite.py report --mode record|compare|none --suite SUITE --live LIVE --recorded REC
                    [--check-dir DIR] [--guest-check] [--guest-out FILE]

The kernel's answer for each case and kernel is normalised to a record:
verdict, stage, reason, dev_size, dev_resource, dev_align, map, data_start_off,
npfns (when the kernel logged "number of pfns truncated"), and more context.
`compare` fails on any difference in COMPARED_KEYS; `--check-dir` also compares
the output of `CMD check IMAGE ... --json` with the kernel on CHECK_KEYS, and
`--guest-check` the same for `infoblock check --json` run inside the guest
(the "guest" entry of a live record: rc, stdout, stderr of the guest command,
taken from the NDH-ACTION lines between guest-cmd-begin and guest-cmd-end).
The guest entry is never written to recorded.json.
"""
import argparse
import json
import os
import re
import sys

COMPARED_KEYS = ("verdict", "stage", "dev_size", "dev_resource", "dev_align")
CHECK_KEYS = COMPARED_KEYS
VERDICTS = ("fsdax", "devdax", "raw", "rejected")
STAGES = ("validate", "enable", None)


def short_kernel(release):
    m = re.match(r"(\d+\.\d+)", release or "")
    return m.group(1) if m else (release or "?")


def load_suite(path):
    with open(path) as f:
        return json.load(f)


def to_int(v):
    """sysfs value -> int (decimal or 0x-hex), None stays None."""
    if v is None or isinstance(v, int):
        return v
    s = str(v)
    if re.fullmatch(r"0x[0-9a-fA-F]+", s):
        return int(s, 16)
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    return s


def norm_text(t):
    """Drop unstable parts of a kernel message: device instance numbers,
    pids, cpu numbers, code offsets."""
    t = re.sub(r"\b(pfn|dax|btt|namespace|region|pmem|ndbus)\d+(\.\d+)?\b",
               lambda m: m.group(1) + ("N.N" if m.group(2) else "N"), t)
    t = re.sub(r"\bCPU: \d+ PID: \d+\b", "CPU: N PID: N", t)
    t = re.sub(r"\+0x[0-9a-f]+/0x[0-9a-f]+", "", t)
    return t


def normalise(rec):
    v = rec.get("verdict")
    out = {
        "kernel": rec.get("kernel"),
        "verdict": v,
        "stage": rec.get("stage") if v == "rejected" else None,
        "reason": rec.get("reason"),
        "dev_size": None, "dev_resource": None, "dev_align": None,
        "map": None, "data_start_off": None, "npfns": None,
    }
    if v in ("fsdax", "devdax"):
        for k in ("dev_size", "dev_resource", "dev_align", "data_start_off"):
            out[k] = to_int(rec.get(k))
        out["map"] = rec.get("map")
    for k in ("ns_mode", "blk_bytes", "blk_dax", "dax_size", "dax_align", "dax_resource"):
        if k in rec:
            out[k] = to_int(rec[k])
    if "claimed_by" in rec:
        out["claimed_by"] = norm_text(rec["claimed_by"])
    out["probes"] = norm_text(rec.get("probes", ""))
    out["reasons"] = [norm_text(t) for t in rec.get("reasons", [])]
    out["notes"] = [norm_text(t) for t in rec.get("notes", [])]
    for t in rec.get("notes", []):
        m = re.search(r"number of pfns truncated from (\d+) to (\d+)", t)
        if m:
            out["npfns"] = {"block": int(m.group(1)), "kernel": int(m.group(2))}
    return out


def guest_of(action):
    """NDH-ACTION lines -> {"rc", "stdout", "stderr"} of the guest command, or
    None when the action did not run one."""
    if not action:
        return None
    out, err, rc, inside = [], [], None, False
    for line in action:
        if line == "guest-cmd-begin":
            inside = True
        elif line.startswith("guest-cmd-end rc="):
            inside = False
            rc = int(line.split("=", 1)[1]) if line.split("=", 1)[1].isdigit() else line
        elif line.startswith("guest-cmd-stderr "):
            err.append(line[len("guest-cmd-stderr "):])
        elif inside:
            out.append(line)
    if rc is None and not out:
        # the command never ran (rig-raw failed?): keep what the action said
        return {"rc": None, "stdout": "", "stderr": "\n".join(action)}
    return {"rc": rc, "stdout": "\n".join(out), "stderr": "\n".join(err)}


def parse_out(path):
    """NDH-JSON / NDH-VERDICT lines of one run.sh output -> {short kernel: record}."""
    res = {}
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return res
    for line in lines:
        if line.startswith("NDH-JSON "):
            rec = json.loads(line[9:])
            r = normalise(rec)
            g = guest_of(rec.get("action"))
            if g is not None:
                r["guest"] = g
            res[short_kernel(rec.get("kernel"))] = r
        elif line.startswith("NDH-VERDICT ") and "verdict=error" in line:
            m = re.search(r"kernel=(\S+)", line)
            k = m.group(1) if m else "?"
            res.setdefault(short_kernel(k), {"kernel": k, "verdict": "error", "stage": None,
                                             "reason": line, "dev_size": None,
                                             "dev_resource": None, "dev_align": None})
    return res


def cmd_cases(a):
    only = set(a.only.split(",")) if a.only else None
    names = [c["name"] for c in load_suite(a.suite)["cases"]]
    if only:
        unknown = only - set(names)
        if unknown:
            print("unknown case(s): " + ", ".join(sorted(unknown)), file=sys.stderr)
            return 1
    for c in load_suite(a.suite)["cases"]:
        if only is None or c["name"] in only:
            print(c["name"], c["ns_size"])
    return 0


def case_by_name(suite, name):
    return next((c for c in load_suite(suite)["cases"] if c["name"] == name), None)


def cmd_guest_cmd(a):
    c = case_by_name(a.suite, a.name)
    if c is None:
        print("unknown case " + a.name, file=sys.stderr)
        return 1
    if c.get("guest_cmd"):
        print(c["guest_cmd"])
    return 0


def cmd_guest_raw(a):
    c = case_by_name(a.suite, a.name) or {}
    print(0 if c.get("guest_raw") is False else 1)
    return 0


def cmd_has_guest_cmd(a):
    only = set(a.only.split(",")) if a.only else None
    return 0 if any(c.get("guest_cmd") for c in load_suite(a.suite)["cases"]
                    if only is None or c["name"] in only) else 1


def cmd_kernels(a):
    for k in sorted(parse_out(a.file)):
        print(k)
    return 0


def cmd_recorded_kernels(a):
    with open(a.recorded) as f:
        rec = json.load(f)
    for k in sorted(rec.get("cases", {}).get(a.name, {})):
        print(k)
    return 0


def cmd_collect(a):
    live = {}
    for c in load_suite(a.suite)["cases"]:
        p = os.path.join(a.outdir, c["name"] + ".out")
        if os.path.exists(p):
            live[c["name"]] = parse_out(p)
    with open(a.live, "w") as f:
        json.dump(live, f, indent=1, sort_keys=True)
    return 0


def cmd_offline_live(a):
    """LIVE := the recorded answers (for --recorded: check a CLI without booting)."""
    with open(a.recorded) as f:
        rec = json.load(f).get("cases", {})
    only = set(a.only.split(",")) if a.only else None
    live = {n: r for n, r in rec.items() if only is None or n in only}
    with open(a.live, "w") as f:
        json.dump(live, f, indent=1, sort_keys=True)
    return 0


def fmt(v):
    if isinstance(v, int) and not isinstance(v, bool) and v > 4096:
        return "%d (%#x)" % (v, v)
    return json.dumps(v)


def verdict_str(r):
    if r is None:
        return "-"
    s = r["verdict"]
    if r.get("stage"):
        s += "/" + r["stage"]
    return s


def check_one(path_base, kernel_rec):
    """Compare one CLI answer with the kernel's. Returns a list of problems."""
    try:
        with open(path_base + ".json") as f:
            text = f.read()
    except FileNotFoundError:
        return ["check command was not run (no output file)"]
    rc = "?"
    try:
        with open(path_base + ".rc") as f:
            rc = f.read().strip()
    except FileNotFoundError:
        pass
    err = ""
    try:
        with open(path_base + ".err") as f:
            err = f.read().strip()[-400:]
    except FileNotFoundError:
        pass
    return check_text(text, rc, err, kernel_rec)


def check_guest(kernel_rec):
    """Compare the guest's `infoblock check --json` with the kernel's answer."""
    g = kernel_rec.get("guest")
    if g is None:
        return ["no guest command output (did the action run?)"]
    return check_text(g["stdout"], g["rc"], g["stderr"][-400:], kernel_rec)


def check_text(text, rc, err, kernel_rec):
    """Compare one `check --json` output with the kernel's answer."""
    probs = []
    try:
        got = json.loads(text)
    except ValueError as e:
        return ["check command printed no valid JSON (exit %s, %s): stdout %r stderr %r"
                % (rc, e, text[:200], err)]
    if not isinstance(got, dict):
        return ["check command JSON is not an object: %r" % (text[:200],)]
    for k in CHECK_KEYS:
        if k not in got:
            probs.append("%s: missing in check output (kernel: %s)" % (k, fmt(kernel_rec.get(k))))
            continue
        g, want = got[k], kernel_rec.get(k)
        if k in ("dev_size", "dev_resource", "dev_align"):
            if g is not None and (isinstance(g, bool) or not isinstance(g, int)):
                probs.append("%s: check says %s, not an integer or null (kernel: %s)"
                             % (k, json.dumps(g), fmt(want)))
                continue
        if g != want:
            probs.append("%s: check says %s, kernel says %s" % (k, fmt(g), fmt(want)))
    return probs


def cmd_report(a):
    suite = load_suite(a.suite)
    names = [c["name"] for c in suite["cases"]]
    with open(a.live) as f:
        live = json.load(f)
    rec_all = {}
    if a.mode == "compare" or (a.mode == "record" and os.path.exists(a.recorded)):
        try:
            with open(a.recorded) as f:
                rec_all = json.load(f)
        except FileNotFoundError:
            print("kernel-suite: %s does not exist: run with --record first" % a.recorded)
            return 2
    recorded = rec_all.get("cases", {})
    passed = failed = 0
    lines = []
    for name in names:
        if name not in live:
            continue
        kres = live[name]
        probs = []
        if not kres:
            probs.append("no kernel answer at all (harness failed?)")
        for k, r in sorted(kres.items()):
            if r.get("verdict") == "error":
                probs.append("%s: harness error: %s" % (k, r.get("reason")))
        if a.mode == "compare":
            want = recorded.get(name)
            if want is None:
                probs.append("not in %s" % os.path.basename(a.recorded))
            else:
                for k in sorted(set(want) | set(kres)):
                    if k not in kres:
                        print("kernel-suite: warning: %s: kernel %s recorded but not run"
                              % (name, k))
                        continue
                    if k not in want:
                        probs.append("%s: kernel not recorded" % k)
                        continue
                    for key in COMPARED_KEYS:
                        if kres[k].get(key) != want[k].get(key):
                            probs.append("%s %s: recorded %s, live %s" % (
                                k, key, fmt(want[k].get(key)), fmt(kres[k].get(key))))
                    if kres[k].get("reason") != want[k].get("reason"):
                        print("kernel-suite: note: %s %s reason: recorded %s, live %s" % (
                            name, k, want[k].get("reason"), kres[k].get("reason")))
        if a.check_dir:
            for k, r in sorted(kres.items()):
                for p in check_one(os.path.join(a.check_dir, "%s.%s" % (name, k)), r):
                    probs.append("check %s: %s" % (k, p))
        if a.guest_check:
            for k, r in sorted(kres.items()):
                if r.get("verdict") == "error":
                    continue
                for p in check_guest(r):
                    probs.append("guest check %s: %s" % (k, p))
        summary = " ".join("%s=%s" % (k, verdict_str(r)) for k, r in sorted(kres.items()))
        if probs:
            failed += 1
            lines.append("FAIL %s [%s]" % (name, summary))
            lines += ["     " + p for p in probs]
        else:
            passed += 1
            lines.append("ok   %s [%s]" % (name, summary))
    print("\n".join(lines))
    if a.guest_out:
        guest = {n: {k: r["guest"] for k, r in sorted(live[n].items()) if "guest" in r}
                 for n in names if n in live}
        with open(a.guest_out, "w") as f:
            json.dump(guest, f, indent=1)
            f.write("\n")
        print("kernel-suite: guest command output in %s" % a.guest_out)
    if a.mode == "record":
        out = {"format": 1,
               "about": "kernel answers for suite.json, written by run-suite.sh --record",
               "ns_start": suite["ns_start"],
               "compared_keys": list(COMPARED_KEYS),
               "cases": dict(recorded)}
        for name in names:
            if name in live:
                # the guest command's output is not the kernel's answer
                out["cases"][name] = {k: {f: v for f, v in r.items() if f != "guest"}
                                      for k, r in live[name].items()}
        out["cases"] = {n: out["cases"][n] for n in names if n in out["cases"]}
        with open(a.recorded, "w") as f:
            json.dump(out, f, indent=1, sort_keys=False)
            f.write("\n")
        print("kernel-suite: recorded %d cases in %s" % (len(out["cases"]), a.recorded))
    print("kernel-suite: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("cases")
    p.add_argument("suite")
    p.add_argument("--only")
    p.set_defaults(fn=cmd_cases)
    p = sub.add_parser("kernels")
    p.add_argument("file")
    p.set_defaults(fn=cmd_kernels)
    p = sub.add_parser("recorded-kernels")
    p.add_argument("recorded")
    p.add_argument("name")
    p.set_defaults(fn=cmd_recorded_kernels)
    p = sub.add_parser("collect")
    p.add_argument("suite")
    p.add_argument("outdir")
    p.add_argument("live")
    p.set_defaults(fn=cmd_collect)
    p = sub.add_parser("offline-live")
    p.add_argument("recorded")
    p.add_argument("live")
    p.add_argument("--only")
    p.set_defaults(fn=cmd_offline_live)
    p = sub.add_parser("report")
    p.add_argument("--mode", choices=("record", "compare", "none"), required=True)
    p.add_argument("--suite", required=True)
    p.add_argument("--live", required=True)
    p.add_argument("--recorded", required=True)
    p.add_argument("--check-dir")
    p.add_argument("--guest-check", action="store_true")
    p.add_argument("--guest-out")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("guest-cmd")
    p.add_argument("suite")
    p.add_argument("name")
    p.set_defaults(fn=cmd_guest_cmd)
    p = sub.add_parser("guest-raw")
    p.add_argument("suite")
    p.add_argument("name")
    p.set_defaults(fn=cmd_guest_raw)
    p = sub.add_parser("has-guest-cmd")
    p.add_argument("suite")
    p.add_argument("--only")
    p.set_defaults(fn=cmd_has_guest_cmd)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: MIT
"""Independent checks of `snpref export` and `snpref stats` (test_export_timeline.c).

    check_export.py perfetto TRACE.jsonl OUT.json
    check_export.py vcd TRACE.jsonl OUT.vcd
    check_export.py stats TRACE.jsonl STATS.json

Each reads the trace itself (JSON Lines, docs/trace-format.md) and checks the
tool's output against it with its own code: the Chrome trace-event fields
(Trace Event Format, "JSON Object Format"), slice nesting and flow pairs; a
VCD parsed by the small reader below (IEEE 1364 section 18) whose IRR/ISR
bits follow the trace's irq_accept, irq_deliver and eoi events; the stats
counts recounted from the events. Exit 0, or 1 with the first problem.
"""
import json
import sys


def fail(msg):
    print("check_export: " + msg)
    sys.exit(1)


def load_trace(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f]
    return lines[0], lines[1:]


# ---- perfetto -------------------------------------------------------------------

def check_perfetto(hdr, events, out):
    with open(out) as f:
        doc = json.load(f)
    evs = doc.get("traceEvents")
    if not isinstance(evs, list) or not evs:
        fail("no traceEvents array")
    nv = hdr["vcpus"]
    for e in evs:
        for k in ("name", "ph", "pid", "tid"):
            if k not in e:
                fail("event without %s: %r" % (k, e))
        if e["ph"] != "M" and not isinstance(e.get("ts"), (int, float)):
            fail("event without a numeric ts: %r" % e)
        if e["ph"] == "X" and not (isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0):
            fail("complete event without dur >= 0: %r" % e)
        if e["ph"] == "i" and e.get("s") not in ("t", "p", "g"):
            fail("instant without scope: %r" % e)
        if e["ph"] in ("s", "f") and "id" not in e:
            fail("flow event without id: %r" % e)
        if e["ph"] not in ("M", "X", "i", "s", "f"):
            fail("unexpected phase %r" % e["ph"])
    names = {e["tid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
    for i in range(nv):
        if names.get(i + 1) != "vCPU %d" % i:
            fail("no track named vCPU %d" % i)
    # Complete slices nest on every track (what the trace viewers require).
    eps = 1e-9
    by_tid = {}
    for e in evs:
        if e["ph"] == "X":
            by_tid.setdefault(e["tid"], []).append((e["ts"], -e["dur"], e["ts"] + e["dur"], e["name"]))
    for tid, xs in by_tid.items():
        xs.sort()
        stack = []
        for ts, _, end, name in xs:
            while stack and stack[-1][0] <= ts + eps:  # ended (adjacent slices touch)
                stack.pop()
            if stack and end > stack[-1][0] + eps:
                fail("track %d: slice %s [%f, %f] overlaps %s" % (tid, name, ts, end, stack[-1][1]))
            stack.append((end, name))
    # Flows: one start per finish, the finish on the taking vCPU's track at an irq slice.
    starts = {e["id"]: e for e in evs if e["ph"] == "s"}
    fins = [e for e in evs if e["ph"] == "f"]
    if not fins:
        fail("no flow arrows")
    irq_at = {(e["tid"], e["ts"]) for e in evs if e["ph"] == "X" and e.get("cat") == "irq"}
    for f in fins:
        s = starts.get(f["id"])
        if s is None:
            fail("flow %r finishes without a start" % f["id"])
        if f.get("bp") != "e" or (f["tid"], f["ts"]) not in irq_at or f["ts"] < s["ts"]:
            fail("flow %r does not end at a later handler entry" % f["id"])
    # One irq slice per irq_deliver, one ipi slice per ipi event.
    for kind, cat in (("irq_deliver", "irq"), ("ipi", "ipi")):
        want = sum(1 for e in events if e["ev"] == kind)
        got = sum(1 for e in evs if e["ph"] == "X" and e.get("cat") == cat)
        if want != got:
            fail("%d %s events, %d %s slices" % (want, kind, got, cat))
    hz = hdr["config"]["core_hz"]
    last = max(e["t"] for e in events) * 1e6 / hz
    if max(e.get("ts", 0) + e.get("dur", 0) for e in evs) > last + 1e-6:
        fail("a slice ends after the trace's last event")


# ---- vcd ------------------------------------------------------------------------

def parse_vcd(path):
    """A small VCD reader: declarations, then value changes by time."""
    with open(path) as f:
        toks = f.read().split()
    i, ids, scope, timescale = 0, {}, [], None
    while i < len(toks):
        t = toks[i]
        if t == "$scope":
            scope.append(toks[i + 2])
            i += 4
        elif t == "$upscope":
            scope.pop()
            i += 2
        elif t == "$var":
            width, ident, name = int(toks[i + 2]), toks[i + 3], toks[i + 4]
            ids[ident] = (".".join(scope + [name]), width)
            i = toks.index("$end", i) + 1
        elif t == "$timescale":
            timescale = toks[i + 1]
            i = toks.index("$end", i) + 1
        elif t == "$enddefinitions":
            i += 2
            break
        elif t.startswith("$"):
            i = toks.index("$end", i) + 1
        else:
            fail("VCD: unexpected %r in the declarations" % t)
    changes, now, last = [], 0, -1
    while i < len(toks):
        t = toks[i]
        if t in ("$dumpvars", "$end"):
            i += 1
            continue
        if t.startswith("#"):
            now = int(t[1:])
            if now < last:
                fail("VCD: time goes back at #%d" % now)
            last = now
            i += 1
            continue
        if t[0] in "bB":
            val, ident = int(t[1:], 2), toks[i + 1]
            i += 2
        elif t[0] in "01":
            val, ident = int(t[0]), t[1:]
            i += 1
        else:
            fail("VCD: unexpected value %r" % t)
        if ident not in ids:
            fail("VCD: undeclared identifier %r" % ident)
        name, width = ids[ident]
        if val >> width:
            fail("VCD: %s wider than %d bits" % (name, width))
        changes.append((now, name, val))
    return timescale, ids, changes


def check_vcd(hdr, events, out):
    timescale, ids, changes = parse_vcd(out)
    if timescale != "1ps":
        fail("VCD timescale %r" % timescale)
    nv = hdr["vcpus"]
    names = {n for n, _ in ids.values()}
    for v in range(nv):
        for s in ("irr", "isr", "tpr", "ppr", "intr", "nmi"):
            if "snpref.vcpu%d.%s" % (v, s) not in names:
                fail("no signal vcpu%d.%s" % (v, s))
    ps = 10**12 // hdr["config"]["core_hz"]
    # The value of each signal after all changes at one time.
    at = {}
    for t, name, val in changes:
        at[(t, name)] = val
    def value(t, name):
        best = None
        for (tt, n), v in at.items():
            if n == name and tt <= t and (best is None or tt > best[0]):
                best = (tt, v)
        return best[1] if best else 0
    checked = 0
    for e in events:
        v, ev = e["vcpu"], e["ev"]
        if v < 0:
            continue
        t = e["t"] * ps
        irr, isr = "snpref.vcpu%d.irr" % v, "snpref.vcpu%d.isr" % v
        if ev == "irq_accept" and e["mode"] in ("fixed", "lowest"):
            if not value(t, irr) >> e["vector"] & 1:
                fail("vCPU %d: IRR bit %d not set at cycle %d (irq_accept)" % (v, e["vector"], e["t"]))
            checked += 1
        elif ev == "irq_deliver" and e["kind"] == "fixed":
            if not value(t, isr) >> e["vector"] & 1:
                fail("vCPU %d: ISR bit %d not set at cycle %d (irq_deliver)" % (v, e["vector"], e["t"]))
            checked += 1
        elif ev == "eoi" and e["vector"] >= 0:
            if value(t, isr) >> e["vector"] & 1:
                fail("vCPU %d: ISR bit %d still set at cycle %d (eoi)" % (v, e["vector"], e["t"]))
            checked += 1
    # No IRR/ISR change without an event of that vCPU at that time.
    times = {}
    for e in events:
        if e["vcpu"] >= 0:
            times.setdefault(e["vcpu"], set()).add(e["t"] * ps)
    for t, name, _ in changes:
        parts = name.split(".")
        if parts[-1] in ("irr", "isr") and t > 0 and t not in times.get(int(parts[1][4:]), ()):
            fail("%s changes at #%d with no event of that vCPU" % (name, t))
    if not checked:
        fail("nothing to check in the trace")


# ---- stats ----------------------------------------------------------------------

def ipi_targets(e, nv):
    sh, dest = e["shorthand"], int(e["dest"], 16)
    return [i for i in range(nv)
            if (sh == "self" and i == e["vcpu"]) or sh == "all" or (sh == "others" and i != e["vcpu"])
            or (sh == "none" and (dest == i or dest == 0xFFFFFFFF))]


def check_stats(hdr, events, out):
    with open(out) as f:
        st = json.load(f)
    nv = hdr["vcpus"]
    if len(st["vcpus"]) != nv:
        fail("%d vCPUs in stats, %d in the trace" % (len(st["vcpus"]), nv))
    for v in range(nv):
        counts = {}
        for e in events:
            if e["vcpu"] == v:
                counts[e["ev"]] = counts.get(e["ev"], 0) + 1
        s = st["vcpus"][v]
        if s["events"] != counts:
            fail("vCPU %d: stats events %r, trace %r" % (v, s["events"], counts))
        if s["interrupts_taken"] != counts.get("irq_deliver", 0):
            fail("vCPU %d: interrupts_taken" % v)
        if s["vm_exits"] != counts.get("vmexit", 0):
            fail("vCPU %d: vm_exits" % v)
        for kind, lat in s["latency"].items():
            if sum(b["count"] for b in lat["histogram"]) != lat["samples"]:
                fail("vCPU %d: %s histogram does not add up" % (v, kind))
            for b in lat["histogram"]:
                if not (b["lo"] <= lat["max"] and b["hi"] > lat["min"]):
                    fail("vCPU %d: %s bucket outside min..max" % (v, kind))
            if lat["samples"] and not lat["min"] <= lat["median"] <= lat["p99"] <= lat["max"]:
                fail("vCPU %d: %s min <= median <= p99 <= max" % (v, kind))
    sysc = {}
    for e in events:
        if e["vcpu"] < 0:
            sysc[e["ev"]] = sysc.get(e["ev"], 0) + 1
    if st["system_events"] != sysc:
        fail("system events %r, trace %r" % (st["system_events"], sysc))
    # Every fixed physical IPI target that took the vector is one sample (all do here).
    want = sum(len(ipi_targets(e, nv)) for e in events
               if e["ev"] == "ipi" and e["mode"] == "fixed" and e["dest_mode"] == "physical")
    if st["latency"]["ipi"]["samples"] != want:
        fail("%d IPI latency samples, %d fixed physical IPI targets" % (st["latency"]["ipi"]["samples"], want))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("perfetto", "vcd", "stats"):
        fail("usage: check_export.py perfetto|vcd|stats TRACE OUT")
    hdr, events = load_trace(sys.argv[2])
    {"perfetto": check_perfetto, "vcd": check_vcd, "stats": check_stats}[sys.argv[1]](hdr, events, sys.argv[3])
    print("check_export: %s ok" % sys.argv[1])


main()

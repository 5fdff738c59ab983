#!/usr/bin/env python3
"""Compare a walk of SNOW-CLUSTER-MIB with snowd's view of the nodes.

usage: snmpcheck.py WALK BEFORE.json AFTER.json
WALK is `snmpbulkwalk -On -Oq -Oe -Ot` output of the whole MIB; BEFORE and
AFTER are GET /api/v1/nodes answers taken one second before it and just
after it: a counter in the walk must lie between the two, which checks the
subagent's data is fresh within a second.
Prints "ok - ..." / "not ok - ..." lines (tests/lib.sh style) and exits 1
on any failure.  An independent decoder of the MIB's index encoding."""
import json
import sys

BASE = (1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7669, 1)
failures = 0


def ok(cond, desc, detail=""):
    global failures
    if cond:
        print("ok - " + desc)
    else:
        failures += 1
        print("not ok - %s%s" % (desc, (": " + detail) if detail else ""))


def parse_value(v):
    if v.startswith('"'):
        return v[1:-1] if v.endswith('"') else v[1:]
    try:
        return int(v)
    except ValueError:
        return v


def name_at(sub, i):
    n = sub[i]
    return "".join(chr(c) for c in sub[i + 1:i + 1 + n]), i + 1 + n


def hexbytes(s):
    return [int(x, 16) for x in s.split()]


walk, before, after = sys.argv[1:4]
rows = {2: {}, 3: {}, 4: {}, 5: {}}
for line in open(walk):
    line = line.rstrip("\n")
    if not line.strip():
        continue
    oid, _, val = line.partition(" ")
    parts = tuple(int(x) for x in oid.strip(".").split("."))
    if parts[:len(BASE)] != BASE:
        continue
    rest = parts[len(BASE):]
    table, col, sub = rest[0], rest[2] if len(rest) > 2 else None, rest[3:]
    if table not in rows:
        continue
    node = sub[0]
    if table == 2:
        key = (node,)
    elif table == 4:
        name, i = name_at(sub, 1)
        key = (node, name, "high" if sub[i] == 1 else "low")
    else:
        key = (node, name_at(sub, 1)[0])
    rows[table].setdefault(key, {})[col] = parse_value(val)

b = {n["name"]: n for n in json.load(open(before))["nodes"]}
a = {n["name"]: n for n in json.load(open(after))["nodes"]}
ids = {n["id"]: n["name"] for n in a.values()}
STATES = {"booting": 1, "online": 2, "offline": 3}

# Nodes: one row per node, every column as snowctl/the API has it.
ok(sorted(k[0] for k in rows[2]) == sorted(ids), "node table has one row per node (by snowd id)",
   "%s vs %s" % (sorted(k[0] for k in rows[2]), sorted(ids)))
for (nid,), r in sorted(rows[2].items()):
    n = a.get(ids.get(nid, ""), {})
    mac = ":".join("%02x" % x for x in hexbytes(r.get(3, "")))
    ok(r.get(2) == n.get("name") and mac == n.get("mac") and r.get(4) == n.get("ip")
       and r.get(5) == STATES.get(n.get("state")) and r.get(6) == n.get("image")
       and r.get(9) == n.get("hostname")
       and r.get(10) in ((n.get("stage") or "")[:31], (b.get(n.get("name"), {}).get("stage") or "")[:31]),
       "node %s: name, MAC, IP, state, image, hostname, boot stage" % n.get("name"), repr(r))

# Values: the schema of every node, kinds, units, readings.
KINDS = {"attribute": 1, "counter": 2, "gauge": 3}
want = {(nid, s["name"]) for nid, name in ids.items() for s in a[name].get("schema", [])}
ok(set(rows[3]) == want, "value table has one row per schema entry",
   "%d rows, %d in the schemas" % (len(rows[3]), len(want)))
bad = []
for (nid, vname), r in sorted(rows[3].items()):
    n, nb = a[ids[nid]], b.get(ids[nid], {})
    s = next((x for x in n["schema"] if x["name"] == vname), {})
    cur, prev = n["values"].get(vname), nb.get("values", {}).get(vname)
    dec = 2 if isinstance(cur, float) else 0
    if r.get(3) != KINDS.get(s.get("kind")) or r.get(4) != s.get("unit", "") or \
       r.get(2) != s.get("oid", "") or r.get(5) != dec or r.get(10) != s.get("desc", ""):
        bad.append("%s %s schema columns %r" % (ids[nid], vname, r))
        continue
    text = float(r.get(7)) if r.get(7) not in (None, "") else None
    if s["kind"] == "attribute":
        good = text == cur
    elif s["kind"] == "counter":
        good = text is not None and (prev if prev is not None else text) <= text <= cur
    else:
        # Between the two API reads the reading is one the node reported: within the
        # watermarks when the list carries them, else the value before or after.
        lo, hi = n.get("watermarks", {}).get(vname, [cur, cur])
        if prev is not None:
            lo, hi = min(lo, prev, cur), max(hi, prev, cur)
        good = text is not None and lo <= text <= hi
    # The integer column is walked before the text column: a walk is not atomic, and the
    # node may report between the two.  Both must be readings of the window, not equal.
    if text is not None and abs(text * 10 ** dec) < 2 ** 31 and r.get(6) is not None:
        num = r.get(6) / 10 ** dec
        half = 0.5 / 10 ** dec  # the integer column is rounded
        if s["kind"] == "attribute":
            good = good and round(text * 10 ** dec) == r.get(6)
        elif s["kind"] == "counter":
            good = good and (prev if prev is not None else num) - half <= num <= cur + half
        else:
            good = good and lo - half <= num <= hi + half
    # Counter64: a counter's exact reading (walked after the text: at or above it), else 0.
    if s["kind"] == "counter" and isinstance(cur, int):
        good = good and text is not None and text <= r.get(11, -1) <= cur
    else:
        good = good and r.get(11) == 0
    if not good:
        bad.append("%s %s reading %r (API before %r, after %r)" % (ids[nid], vname, r.get(7), prev, cur))
ok(not bad, "every value's kind, unit, oid, decimals, description, reading and Counter64 agree with the API",
   "; ".join(bad[:5]))

# Thresholds: a row per threshold a node has on a gauge, as the node reports it.
gauges = {(nid, s["name"]) for nid, name in ids.items() for s in a[name].get("schema", [])
          if s["kind"] == "gauge"}
want = {(nid, t["value"], t["kind"]) for nid, name in ids.items()
        for t in a[name].get("thresholds") or [] if (nid, t["value"]) in gauges}
ok(set(rows[4]) == want, "threshold table has a row per threshold that exists, none for the others",
   "%d rows, want %d" % (len(rows[4]), len(want)))
bad = []
for (nid, vname, kind), r in sorted(rows[4].items()):
    n = a[ids[nid]]
    t = next((x for x in n.get("thresholds") or [] if x["value"] == vname and x["kind"] == kind), None)
    dec = 2 if isinstance(n["values"].get(vname), float) else 0
    good = (t is not None and r.get(4) == 1 and r.get(7) == 1
            and r.get(2) == round(t["rise"] * 10 ** dec)
            and r.get(3) == round(t["clear"] * 10 ** dec)
            and r.get(5) == (2 if t.get("state") == "raised" else 1)
            and r.get(6) == t.get("samples", 1))
    if not good:
        bad.append("%s %s %s: %r vs %r" % (ids[nid], vname, kind, r, t))
ok(not bad, "thresholds agree with the API (levels, enabled, state, samples, row status)",
   "; ".join(bad[:5]))

# Devices.
want = {(nid, d["path"]) for nid, name in ids.items() for d in a[name].get("devices") or []}
ok(set(rows[5]) == want, "device table has one row per device",
   "%d rows, want %d" % (len(rows[5]), len(want)))
RUN = {"inactive": 1, "offline": 2, "online": 3}
bad = []
for (nid, path), r in sorted(rows[5].items()):
    d = next(x for x in a[ids[nid]]["devices"] if x["path"] == path)
    ops = d.get("ops", [])
    good = (r.get(2) == d.get("class") and r.get(3) == (4 if d["avail"] == "enabled" else 2)
            and r.get(4) == (3 if d["run"] == "online" else 2) and r.get(5) == RUN[d["run"]]
            and r.get(6) == (1 if "disable" in ops else 2) and r.get(7) == (1 if "enable" in ops else 2))
    if not good:
        bad.append("%s %s: %r vs %r" % (ids[nid], path, r, d))
ok(not bad, "devices agree with the API (class, admin/oper/run states, allowed ops)", "; ".join(bad[:5]))
sys.exit(1 if failures else 0)

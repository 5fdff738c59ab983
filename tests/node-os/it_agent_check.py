#!/usr/bin/env python3
"""Questions about the fake host's request log (tests/node-os/it_agent_commands.sh).

    it_agent_check.py LOG QUESTION [ARGS...]

Exit 0 when the answer is yes; `results` prints the results instead.
"""
import json
import sys


def main():
    reqs = []
    for line in open(sys.argv[1]):
        try:
            reqs.append(json.loads(line))
        except ValueError:
            pass
    q, a = sys.argv[2], sys.argv[3:]
    reps = [r for r in reqs if r["path"] == "/api/v1/node/report" and r["body"]]
    # Answered 200 and signed: what the agent may act on (fakehost --answer-sig).
    ok_reps = [r for r in reps if r["status"] == 200 and r.get("answer_sig", "good") == "good"]
    forged = [r for r in reps if r.get("answer_sig", "good") != "good"]
    results = {}
    for r in ok_reps:
        for x in r["body"].get("results", []):
            results.setdefault(x["id"], x)
    # Thresholds and devices as the host holds them: absent from a report means unchanged.
    held = {}
    for r in ok_reps:
        held.update({k: r["body"][k] for k in ("thresholds", "devices") if k in r["body"]})
    events = {}
    for r in reps:
        for e in r["body"].get("events", []):
            events.setdefault(e["seq"], e)

    def yes(cond):
        sys.exit(0 if cond else 1)

    if q == "reports-ok":
        yes(len(ok_reps) >= int(a[0]))
    if q == "results-count":
        yes(len(results) >= int(a[0]))
    if q == "results":
        for i in sorted(results):
            x = results[i]
            if not x["ok"]:
                print(i, "refused", x["error"])
            elif isinstance(x.get("result"), dict) and "detail" in x["result"]:
                print(i, "ok", x["result"]["result"])
            else:
                print(i, "ok", json.dumps(x.get("result")))
        return
    if q == "result-ok":
        x = results.get(int(a[0]))
        if x and not x["ok"]:
            print("# %s" % x, file=sys.stderr)
        yes(x is not None and x["ok"])
    if q == "resent-after-503":
        failed = [r for r in reps if r["status"] == 503]
        ids = {x["id"] for r in failed for x in r["body"].get("results", [])}
        later = [x["id"] for r in ok_reps if failed and r["t"] > failed[0]["t"]
                 for x in r["body"].get("results", [])]
        yes(ids and ids <= set(later))
    if q == "results-once":
        ids = [e["attrs"]["id"] for e in events.values() if e["type"] == "command.result"]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            print("# executed more than once: %s" % sorted(dup), file=sys.stderr)
        yes(not dup and len(ids) >= 13)
    if q == "event-with":
        typ, kv = a[0], a[1:]
        yes(any(e["type"] == typ and all(e["attrs"].get(kv[i]) == kv[i + 1]
                                         for i in range(0, len(kv), 2))
                for e in events.values()))
    if q == "report-has-thresholds-devices":
        b = ok_reps[-1]["body"]
        yes(any(t["value"] == "kern.mem.free_kb" and t["state"] == "raised"
                for t in held.get("thresholds", []))
            and any(d["path"] == "cpu/cpu1" and d["run"] == "offline"
                    for d in held.get("devices", []))
            and "kern.mem.free_kb" in b.get("watermarks", {}))
    if q == "parts-only-when-changed":
        # The first answered report carries both; later ones leave them out while unchanged.
        yes(len(ok_reps) >= 3 and "devices" in ok_reps[0]["body"] and
            "thresholds" in ok_reps[0]["body"] and
            any("devices" not in r["body"] for r in ok_reps[1:]) and
            any("thresholds" not in r["body"] for r in ok_reps[1:]))
    if q == "threshold-listed":
        yes(any(t["value"] == a[0] for t in held.get("thresholds", [])))
    if q == "events-after-restart":
        n = sum(1 for e in events.values() if e["type"].startswith("threshold.")
                and e["attrs"]["value"] == "vm.load.avg1")
        yes(n >= int(a[0]))
    if q == "events-contiguous":
        seqs = sorted(events)
        if seqs != list(range(1, seqs[-1] + 1)):
            print("# seqs: %s" % seqs, file=sys.stderr)
        yes(seqs == list(range(1, seqs[-1] + 1)))
    if q == "ack-honoured":
        # After an answer acknowledged N, no later report carries seq <= N.
        acked, bad = 0, []
        for r in reps:
            low = [e["seq"] for e in r["body"].get("events", []) if e["seq"] <= acked]
            if low:
                bad.append((acked, low))
            if r["status"] == 200 and r.get("reply") and r.get("answer_sig", "good") == "good":
                acked = max(acked, r["reply"].get("ack_events", 0))
        if bad:
            print("# resent after ack: %s" % bad[:3], file=sys.stderr)
        yes(not bad and acked > 0)
    if q == "forged-reports":
        yes(len(forged) >= int(a[0]))
    if q == "forged-events":
        # At least N events rode in reports whose (forged) answer acknowledged them.
        yes(len({e["seq"] for r in forged for e in r["body"].get("events", [])}) >= int(a[0]))
    if q == "forged-events-resent":
        # Every event sent under a forged answer came again in a report answered for real.
        sent = {e["seq"] for r in forged for e in r["body"].get("events", [])}
        again = {e["seq"] for r in ok_reps if forged and r["t"] > forged[-1]["t"]
                 for e in r["body"].get("events", [])}
        if sent - again:
            print("# not resent: %s" % sorted(sent - again), file=sys.stderr)
        yes(sent and sent <= again)
    if q == "lost-explains-gap":
        lost = [e for e in events.values() if e["type"] == "events.lost"]
        missing = set(range(1, max(events) + 1)) - set(events)
        named = set()
        for e in lost:
            named |= set(range(e["attrs"]["first_seq"], e["attrs"]["last_seq"] + 1))
        print("# lost %s, missing %d seqs" % ([e["attrs"] for e in lost], len(missing)),
              file=sys.stderr)
        yes(lost and missing == named and
            sum(e["attrs"]["count"] for e in lost) == len(missing))
    print("unknown question %s" % q, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()

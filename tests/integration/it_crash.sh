#!/usr/bin/env bash
# Crash evidence end to end (docs/crash.md): a QEMU node of the virtual
# cluster streams its kernel log to snowd by netconsole; its kernel is made
# to panic three ways, and each time the node comes back by itself
# (panic=10), and snowd holds a `crash` event of the crashed boot with the
# panic text:
#   - sysrq c, sent as keys through QEMU's monitor (netconsole, pvpanic's
#     GUEST_PANICKED), and after the warm reset the agent sends the ramoops
#     dump to snowd, tied to the crashed boot (pstore);
#   - an NMI (QMP inject-nmi, the kernel booted with unknown_nmi_panic);
#   - a hang in start-up (snow.test_hang=agent: /init never starts the
#     agent): the watchdog /init armed panics at its pretimeout, then resets.
# `snowctl node log NODE --boot ID [--pstore]` prints a boot's kernel log and
# its dump.  Forged datagrams from another address, and a flood from the
# node's, are dropped and counted in /metrics.
. "$(dirname "$0")/../lib.sh"
need_root "virtual cluster"

state=$(mktemp -d /tmp/snow-it-crash.XXXXXX)
name=crash-$((RANDOM % 1000))
net=10.77
vc() { SNOW_VCLUSTER_DIR=$state "$SNOW_BIN/snow-vcluster" "$@"; }
keep_logs() {
	[ "$_failures" -gt 0 ] || return 0
	local keep=$SNOW_TOP/build/test-logs/crash
	rm -rf "$keep"; mkdir -p "$keep"
	cp -r "$state"/*.log "$state"/*.serial "$state/snowd/klog" "$keep/" 2>/dev/null
	for f in "$keep"/*.log "$keep"/*.serial; do echo "--- $f"; tail -25 "$f"; done
}
on_exit "keep_logs; vc down >/dev/null 2>&1; rm -rf '$state'"

if ! vc up --nodes 1 --name "$name" --net "$net" --wait --timeout 300 >"$state/up.log" 2>&1; then
	cat "$state/up.log"
	not_ok "snow-vcluster up with 1 node, online"
	exit 1
fi
ok "snow-vcluster up with 1 node, online"
. "$state/env"
ctl() { "$SNOW_BIN/snowctl" "$@"; }
api() { curl -sf -H "Authorization: Bearer $SNOW_TOKEN" "$SNOW_URL$1"; }
node_field() { ctl node show node1 --json | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', ''))"; }
port=${SNOW_URL##*:}

# sysrq's crash is off by default (kernel.sysrq=438) and the agent may not
# set kernel.sysrq: the node boots again with it on, and with an unknown NMI
# a panic.  A clean reboot is no crash.
kargs="sysrq_always_enabled unknown_nmi_panic"
bfirst=$(node_field boot_id)
check "reconfigure: cmdline $kargs, with a reboot" \
	bash -c "'$SNOW_BIN/snowctl' node set node1 'cmdline=$kargs' --reboot | grep -q 'reboot queued'"
check "node1 back online with a new boot" wait_for 180 bash -c "'$SNOW_BIN/snowctl' node show node1 --json | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if n[\"state\"]==\"online\" and n[\"boot_id\"] not in (\"\", \"$bfirst\") else 1)'"
check "the first boot's kernel log is kept under its id" bash -c "'$SNOW_BIN/snowctl' node log node1 --boot '$bfirst' | grep -q 'snow-init: starting snow-agent'"
check "a clean reboot is no crash" bash -c "! '$SNOW_BIN/snowctl' events --node node1 --json | grep -q '\"crash\"'"

# --- the kernel log of the boot under way ---------------------------------------
b0=$(node_field boot_id)
check "the boot's kernel log holds /init's lines (netconsole, via /dev/kmsg)" \
	wait_for 30 bash -c "'$SNOW_BIN/snowctl' node log node1 | grep -q 'snow-init: watchdog handed over'"
check "and the kernel's messages from before netconsole (POST /boot/MAC/dmesg)" \
	bash -c "'$SNOW_BIN/snowctl' node log node1 --boot '$b0' | grep -q 'early: .*Linux version'"
check "the watchdog was armed by /init, with a pretimeout" grep -q 'snow-init: .*watchdog armed.*pretimeout [1-9][0-9]*s' "$state/node1.serial"
grep -o 'snow-init: .*watchdog armed.*' "$state/node1.serial" | head -1 | sed 's/^/# /'
check "the agent took the watchdog over with a pretimeout too" \
	grep -aq 'snow-agent.*watchdog: /dev/watchdog armed, [0-9]* s, pretimeout [1-9]' "$state/node1.serial"
grep -ao 'watchdog: /dev/watchdog armed.*' "$state/node1.serial" | head -1 | sed 's/^/# agent: /'
check "ramoops was loaded in its reserved range (pstore)" grep -q 'snow-init: .*pstore: ramoops loaded' "$state/node1.serial"
grep -o 'snow-init: .*pstore: .*' "$state/node1.serial" | head -1 | sed 's/^/# /'
check "log files are 0600" bash -c "[ \"\$(stat -c %a '$state/snowd/klog/node1/$b0.log')\" = 600 ]"

# --- forged and flooded datagrams ---------------------------------------------------
metric() { api /metrics | awk -v m="$1" '$1 == m { print $2; f=1 } END { if (!f) print 0 }'; }
addr0=$(metric 'snowd_klog_dropped_total{reason="address"}')
rate0=$(metric 'snowd_klog_dropped_total{reason="rate"}')
# From the host's end of the uplink: no node has that address.
python3 - "$net.255.2" "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    s.sendto(b"6,%d,1000,-;Kernel panic - not syncing: forged\n" % i, (sys.argv[1], int(sys.argv[2])))
PY
check "200 forged datagrams from another address are dropped and counted" \
	wait_for 10 bash -c "[ \$(curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$SNOW_URL/metrics' | awk '\$1 == \"snowd_klog_dropped_total{reason=\\\"address\\\"}\" {print \$2}') -ge $((addr0 + 200)) ]"
# From the node's own address (forged with a raw socket inside the cluster's
# namespace): past the node's rate (500/s, bursts of 1000) they are dropped.
# A datagram the kernel drops (snowd's socket full, snowd busy elsewhere) uses
# no token, so the flood goes round by round until snowd has counted a drop:
# each round empties the bucket by what snowd read, faster than 500/s refill it.
flood() {
	ip netns exec "$name" python3 - "$net.0.11" "$net.0.1" "$port" <<'PY'
import socket, struct, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
for i in range(5000):
    data = b"flood %d\n" % i
    udp = struct.pack("!HHHH", 6665, port, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + udp, (dst, 0))
PY
}
rate_dropped() { [ "$(metric 'snowd_klog_dropped_total{reason="rate"}')" -gt "$rate0" ]; }
for round in $(seq 20); do
	flood
	wait_for 5 rate_dropped && break
done
echo "# flood rounds: $round"
check "a flood from the node's address is cut to its rate, and counted" rate_dropped
echo "# dropped: address $(metric 'snowd_klog_dropped_total{reason="address"}'), rate $(metric 'snowd_klog_dropped_total{reason="rate"}')"
check "no crash was recorded from the forged panic lines" bash -c "! '$SNOW_BIN/snowctl' events --node node1 --json | grep -q '\"crash\"'"

# --- the panic --------------------------------------------------------------------
python3 - "$state/node1.qmp" <<'PY' || not_ok "QMP sendkey alt-sysrq-c"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"},
            {"execute": "human-monitor-command", "arguments": {"command-line": "sendkey alt-sysrq-c"}}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            break
    if "error" in r:
        print(r); sys.exit(1)
PY
start=$SECONDS
check "a crash event of the crashed boot arrives" \
	wait_for 60 bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$SNOW_URL/api/v1/events?node=node1' | grep -q '\"type\": *\"crash\"'"
echo "# crash event after $((SECONDS - start)) s"
check "node1 is online again by itself, with a new boot" \
	wait_for 180 bash -c "'$SNOW_BIN/snowctl' node show node1 --json | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if n[\"state\"]==\"online\" and n[\"boot_id\"] not in (\"\", \"$b0\") else 1)'"
echo "# back online $((SECONDS - start)) s after the panic"
api "/api/v1/events?node=node1" >"$state/events.json"
check "the crash event holds the panic text, its boot and sources" python3 - "$state/events.json" "$b0" <<'PY'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["events"] if e["type"] == "crash"]
if len(ev) != 1:
    print("crash events: %r" % ev); sys.exit(1)
e = ev[0]; a = e["attrs"]
print("# crash: boot %s, sources %s, panic %r, %d lines" % (e["boot_id"], a["source"], a["panic"], a["log"].count("\n")))
bad = []
if e["boot_id"] != sys.argv[2]: bad.append("boot %s, want %s" % (e["boot_id"], sys.argv[2]))
if "Kernel panic - not syncing: sysrq triggered crash" not in a["panic"]: bad.append("panic %r" % a["panic"])
if "sysrq: Trigger a crash" not in a["log"]: bad.append("the lines before the panic are missing")
if "netconsole" not in a["source"] or "pvpanic" not in a["source"]: bad.append("sources %r" % a["source"])
if bad: print("; ".join(bad)); sys.exit(1)
PY
ctl node log node1 --boot "$b0" >"$state/klog-b0.txt"
check "snowctl node log --boot prints the crashed boot's kernel log" \
	bash -c "grep -q 'snow-init: starting snow-agent' '$state/klog-b0.txt' && grep -q 'Kernel panic - not syncing: sysrq triggered crash' '$state/klog-b0.txt'"
check "the new boot has its own log" wait_for 30 bash -c "'$SNOW_BIN/snowctl' node log node1 | grep -q 'snow-init: starting snow-agent' && ! '$SNOW_BIN/snowctl' node log node1 | grep -q 'sysrq triggered crash'"
check_eq "snowd_crashes_total counts it" 1 "$(metric snowd_crashes_total)"
check_eq "and per node" 1 "$(metric 'snow_node_crashes_total{node="node1"}')"
check "the kernel-log route refuses an unknown boot" bash -c "! '$SNOW_BIN/snowctl' node log node1 --boot 0000-no-such 2>/dev/null"
# An unknown node: 404 naming it, from the kernel-log and the pstore route alike.
for r in kernel-log pstore; do
	code=$(curl -s -o "$state/unknown-$r.json" -w '%{http_code}' -H "Authorization: Bearer $SNOW_TOKEN" \
		"$SNOW_URL/api/v1/nodes/nosuchnode/boots/$b0/$r")
	check_eq "the $r route answers 404 for an unknown node" 404 "$code"
	check_eq "and names it" "{\"error\":\"name: no node 'nosuchnode'\"}" "$(tr -d '\n' <"$state/unknown-$r.json")"
done

# --- pstore: the dump ramoops kept across the warm reset ------------------------------
# The agent of the new boot sends /sys/fs/pstore once registered; snowd ties
# it to the crashed boot and the crash event says so.
check "the pstore dump of the crashed boot reaches snowd after the reset" \
	wait_for 90 bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$SNOW_URL/api/v1/nodes/node1/boots/$b0/pstore' >'$state/pstore-b0.json'"
check "it holds the panic, in a dmesg record" python3 - "$state/pstore-b0.json" "$b0" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
recs = d.get("records", [])
print("# pstore of boot %s (sent by boot %s): %s" % (d.get("boot_id"), d.get("sent_by_boot"),
      ", ".join("%s %d bytes%s" % (r["name"], r["bytes"], "" if "text" in r else " (not text)") for r in recs)))
dm = [r for r in recs if r["name"].startswith("dmesg-") and "text" in r]
if d.get("boot_id") != sys.argv[2] or not dm or not any("sysrq triggered crash" in r["text"] for r in dm):
    print("boot %r, dmesg records %r" % (d.get("boot_id"), [r["name"] for r in dm])); sys.exit(1)
for line in dm[0]["text"].splitlines()[:3]: print("#   " + line)
PY
check "the crash event gained pstore as a source" \
	wait_for 10 bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$SNOW_URL/api/v1/events?node=node1' | python3 -c 'import json,sys; e=[e for e in json.load(sys.stdin)[\"events\"] if e[\"type\"]==\"crash\"]; sys.exit(0 if len(e)==1 and \"pstore\" in e[0][\"attrs\"][\"source\"] and e[0][\"attrs\"].get(\"pstore\") else 1)'"
check "snowctl node log --boot --pstore prints it" \
	bash -c "'$SNOW_BIN/snowctl' node log node1 --boot '$b0' --pstore | grep -q 'Kernel panic - not syncing: sysrq triggered crash'"
check_eq "a crash sent by pstore is not counted twice" 1 "$(metric snowd_crashes_total)"
check "the node's last crash is in its JSON (last_crash)" \
	bash -c "'$SNOW_BIN/snowctl' node show node1 --json | python3 -c 'import json,sys; c=json.load(sys.stdin).get(\"last_crash\") or {}; sys.exit(0 if c.get(\"boot_id\")==\"$b0\" and \"sysrq\" in c.get(\"panic\",\"\") and c.get(\"time\",0)>0 else 1)'"
lc=$(metric 'snow_node_last_crash_timestamp_seconds{node="node1"}')
check "and in /metrics: snow_node_last_crash_timestamp_seconds ($lc)" test "${lc%.*}" -gt 0

# wait_crash BOOT PANIC: the crash event of BOOT ("*": any) whose panic holds
# PANIC.  (The script is a file: wait_for runs it again and again, and a
# here-document would feed only the first run.)
cat >"$state/crash_has.py" <<'PY'
import json, sys, urllib.request
url, token, boot, want = sys.argv[1:5]
r = urllib.request.urlopen(urllib.request.Request(url + "/api/v1/events?node=node1",
                           headers={"Authorization": "Bearer " + token}), timeout=10)
ev = [e for e in json.load(r)["events"] if e["type"] == "crash" and (boot == "*" or e["boot_id"] == boot)
      and want in e["attrs"].get("panic", "")]
sys.exit(0 if ev else 1)
PY
wait_crash() {
	wait_for 180 python3 "$state/crash_has.py" "$SNOW_URL" "$SNOW_TOKEN" "$1" "$2"
}
# crash_note BOOT: one line on the crash event of BOOT ("*": the newest).
crash_note() {
	api "/api/v1/events?node=node1" | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin)["events"] if e["type"] == "crash" and sys.argv[1] in ("*", e["boot_id"])]
if ev:
    a = ev[0]["attrs"]
    print("# crash: boot %s, sources %s, panic %r" % (ev[0]["boot_id"], a["source"], a["panic"]))
' "$1"
}
online_after() {
	wait_for 240 bash -c "'$SNOW_BIN/snowctl' node show node1 --json | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if n[\"state\"]==\"online\" and n[\"boot_id\"] not in (\"\", \"$1\") else 1)'"
}

# --- an NMI -----------------------------------------------------------------------------
b1=$(node_field boot_id)
python3 - "$state/node1.qmp" <<'PY' || not_ok "QMP inject-nmi"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "inject-nmi"}):
    f.write(json.dumps(cmd) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            break
    if "error" in r:
        print(r); sys.exit(1)
PY
start=$SECONDS
check "an NMI (unknown_nmi_panic): a crash event of that boot with the NMI panic" wait_crash "$b1" "NMI: Not continuing"
crash_note "$b1"
check "node1 is online again by itself after the NMI panic" online_after "$b1"
echo "# back online $((SECONDS - start)) s after the NMI"
check "the NMI's pstore dump is its own (the sysrq one was cleared)" \
	wait_for 90 bash -c "curl -sf -H 'Authorization: Bearer $SNOW_TOKEN' '$SNOW_URL/api/v1/nodes/node1/boots/$b1/pstore' | python3 -c 'import json,sys; t=\" \".join(r.get(\"text\",\"\") for r in json.load(sys.stdin)[\"records\"]); sys.exit(0 if \"NMI\" in t and \"sysrq triggered crash\" not in t else 1)'"

# --- a hang in start-up: the watchdog /init armed ------------------------------------
# /init never starts the agent (snow.test_hang=agent, for tests); with a bound
# of 60 s, the pretimeout (a quarter) panics at 45 s, then panic=10 resets.
# The knob is taken off again as soon as the hung boot has read it, so the
# boot after the reset is a normal one.
b2=$(node_field boot_id)
check "reconfigure: snow.watchdog=60 snow.test_hang=agent, with a reboot" \
	bash -c "'$SNOW_BIN/snowctl' node set node1 'cmdline=$kargs snow.watchdog=60 snow.test_hang=agent' --reboot | grep -q 'reboot queued'"
check "the next boot hangs before the agent" \
	wait_for 180 bash -c "'$SNOW_BIN/snowctl' node log node1 2>/dev/null | grep -q 'snow-init: test: hanging before the agent'"
start=$SECONDS
check "the knob is taken off for the boot after" \
	bash -c "'$SNOW_BIN/snowctl' node set node1 'cmdline=$kargs' >/dev/null"
"$SNOW_BIN/snowctl" node log node1 | grep -o 'snow-init: watchdog armed.*' | head -1 | sed 's/^/# hung boot: /'
check "the watchdog's pretimeout panics the hung boot: a crash event" wait_crash "*" "watchdog pretimeout"
echo "# crash event $((SECONDS - start)) s after the hang began"
hb=$(api "/api/v1/events?node=node1" | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin)["events"] if e["type"]=="crash" and "watchdog pretimeout" in e["attrs"].get("panic", "")][0]["boot_id"])')
crash_note "$hb"
check "node1 is online again by itself after the hang" online_after "$b2"
echo "# back online $((SECONDS - start)) s after the hang began"
check "the hang's crash is of a boot that never reached the agent ($hb)" bash -c "case '$hb' in early-*) true ;; *) false ;; esac"
check "and its pstore dump is tied to that boot" \
	wait_for 90 bash -c "'$SNOW_BIN/snowctl' node log node1 --boot '$hb' --pstore 2>/dev/null | grep -q 'watchdog pretimeout'"
check_eq "three crashes recorded" 3 "$(metric snowd_crashes_total)"
api "/api/v1/events?node=node1" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    if e["type"] == "crash":
        print("# event %d: boot %s, time %d, sources %s, panic %r" % (e["id"], e["boot_id"], e["time"], e["attrs"]["source"], e["attrs"]["panic"]))
'

vc down >"$state/down.log" 2>&1
check "snow-vcluster down" test $? = 0

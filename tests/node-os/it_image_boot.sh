#!/usr/bin/env bash
# Boot the node image (build/images/default) in QEMU (TCG) with a per-node
# overlay made here, and check that the agent inside registers with a fake
# host on loopback (tests/node-os/fakehost.py, which verifies the HMAC
# signatures) and sends at least two reports with plausible values.  The VM has two CPUs and
# an i6300esb watchdog: the agent arms it, takes cpu1 offline and back online
# on the host's command (through sysfs, for real), audits it, refuses cpu0,
# and reports its own RSS and CPU time at 1 s sampling.
# The guest reaches the host's 127.0.0.1 as 10.0.2.2 (QEMU user networking);
# nothing leaves this machine.  Bounded by BOOT_TIMEOUT (120 s).
. "$(dirname "$0")/../lib.sh"

img=$SNOW_TOP/build/images/default
timeout=${BOOT_TIMEOUT:-120}
mac=52:54:00:5e:00:01
name=itnode1

for f in vmlinuz initrd; do
	[ -f "$img/$f" ] || { not_ok "image: $img/$f missing (run 'make image')"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { skip "qemu-system-x86_64 not installed"; exit 0; }

work=$(mktemp -d /tmp/snow-it-boot.XXXXXX)
on_exit 'rm -rf "$work"'
port=$(free_port)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# The overlay snowd would serve: node.conf and hostname, unpacked over the
# base initramfs by the kernel.
mkdir -p "$work/overlay/etc/snow"
cat >"$work/overlay/etc/snow/node.conf" <<EOF
name = $name
host_url = http://10.0.2.2:$port
secret = $secret
interval_ms = 5000
mac = $mac
env.SITE = test
EOF
echo "$name" >"$work/overlay/etc/hostname"
(cd "$work/overlay" && find . -mindepth 1 -printf '%P\n' | sort |
	cpio -o -H newc --owner=0:0 --quiet) >"$work/overlay.cpio"
# One initrd file: the kernel reads concatenated archives, but a newc header
# must start on a 4-byte boundary after the gzip'd base.
cp "$img/initrd" "$work/initrd"
truncate -s %4 "$work/initrd"
cat "$work/overlay.cpio" >>"$work/initrd"

cat >"$work/commands.jsonl" <<'EOF'
{"id": 1, "op": "device", "args": {"path": "cpu/cpu1", "op": "offline"}}
{"id": 2, "op": "device", "args": {"path": "cpu/cpu1", "op": "online"}}
{"id": 3, "op": "device", "args": {"path": "cpu/cpu1", "op": "audit"}}
{"id": 4, "op": "device", "args": {"path": "cpu/cpu0", "op": "offline"}}
EOF
srv_pid='' qemu_pid=''
python3 "$SNOW_TOP/tests/node-os/fakehost.py" --port "$port" --name "$name" --secret "$secret" \
	--log "$work/requests.jsonl" --interval-ms 1000 --commands "$work/commands.jsonl" \
	2>"$work/fakehost.err" &
srv_pid=$!
on_exit 'stop_pid "$srv_pid"'
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/" || {
	not_ok "fake host did not start: $(cat "$work/fakehost.err")"
	exit 1
}

show_serial() {
	echo "# ---- serial log ($work/serial.log) ----"
	sed 's/^/# /' "$work/serial.log" 2>/dev/null | tail -n 150
	echo "# ---- requests ----"
	sed 's/^/# /' "$work/requests.jsonl" 2>/dev/null | cut -c1-400 | tail -n 10
}

start=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -m 512 -smp 2 -display none -no-reboot -monitor none \
	-device i6300esb -action watchdog=reset \
	-serial "file:$work/serial.log" \
	-kernel "$img/vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 snow.mac=$mac panic=-1" \
	-netdev user,id=n0 -device "virtio-net-pci,netdev=n0,mac=$mac" \
	>"$work/qemu.out" 2>&1 &
qemu_pid=$!
on_exit 'stop_pid "$qemu_pid"'

# Done when a signed register and the reports carrying the four results and
# 12 s of agent CPU time after them have arrived.
enough() {
	kill -0 "$qemu_pid" 2>/dev/null || return 2
	python3 - "$work/requests.jsonl" <<'EOF'
import json, sys
try:
    reqs = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    sys.exit(1)
ok = [r for r in reqs if r["sig_ok"]]
reg = [r for r in ok if r["path"] == "/api/v1/node/register"]
rep = [r for r in ok if r["path"] == "/api/v1/node/report"]
done = [r for r in rep if 4 in {x["id"] for x in r["body"].get("results", [])}]
sys.exit(0 if reg and len(rep) >= 2 and done and
         rep[-1]["body"]["uptime_s"] - done[0]["body"]["uptime_s"] >= 12 else 1)
EOF
}
rc=1
while [ $(($(date +%s) - ${start%.*})) -lt "$timeout" ]; do
	enough && { rc=0; break; }
	kill -0 "$qemu_pid" 2>/dev/null || { rc=2; break; }
	sleep 0.5
done
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

if [ "$rc" = 2 ]; then
	not_ok "QEMU exited early: $(cat "$work/qemu.out")"
	show_serial
	exit 1
fi
if [ "$rc" != 0 ]; then
	not_ok "no signed register and two reports within ${timeout}s"
	show_serial
	exit 1
fi
ok "node booted, sent a signed register and reports, ran the commands (${elapsed}s after QEMU start)"

# What arrived, checked field by field; prints "ok/not ok" lines itself.
python3 - "$work/requests.jsonl" "$name" "$mac" "$start" <<'EOF'
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
name, mac = sys.argv[2], sys.argv[3]
fails = 0
def check(desc, cond, seen=""):
    global fails
    if cond:
        print("ok - " + desc)
    else:
        fails += 1
        print("not ok - %s (seen: %s)" % (desc, seen))
bad = [r for r in reqs if not r["sig_ok"]]
check("every request correctly signed", not bad, [r["why"] for r in bad])
reg = [r["body"] for r in reqs if r["path"] == "/api/v1/node/register"][0]
check("register: name", reg.get("name") == name, reg.get("name"))
check("register: mac from node.conf", reg.get("mac") == mac, reg.get("mac"))
check("register: boot_id is a UUID",
      re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", reg.get("boot_id", "")),
      reg.get("boot_id"))
check("register: kernel is Debian's", reg.get("kernel", "").endswith("-amd64"), reg.get("kernel"))
check("register: hostname from the overlay", reg.get("hostname") == name, reg.get("hostname"))
check("register: version", bool(reg.get("version")), reg.get("version"))
reps = [r["body"] for r in reqs if r["path"] == "/api/v1/node/report" and r["sig_ok"]]
check("reports: seq 1, 2, ...", [r["seq"] for r in reps[:2]] == [1, 2], [r["seq"] for r in reps])
check("reports: same boot_id as register",
      all(r["boot_id"] == reg.get("boot_id") for r in reps), [r["boot_id"] for r in reps])
v = reps[-1]["values"]
check("report: memory total plausible for -m 512 (400..512 MiB)",
      400 * 1024 < v.get("kern.mem.total_kb", 0) <= 512 * 1024, v.get("kern.mem.total_kb"))
# MemAvailable may be below MemFree (it leaves out the kernel's reserves).
check("report: 0 < free, available <= total",
      0 < v.get("kern.mem.free_kb", 0) <= v.get("kern.mem.total_kb", 0) and
      0 < v.get("kern.mem.avail_kb", 0) <= v.get("kern.mem.total_kb", 0),
      (v.get("kern.mem.free_kb"), v.get("kern.mem.avail_kb")))
check("report: process count plausible (10..500)", 10 <= v.get("kern.procs.count", 0) <= 500,
      v.get("kern.procs.count"))
check("report: load averages present and >= 0",
      all(isinstance(v.get(k), (int, float)) and v[k] >= 0
          for k in ("vm.load.avg1", "vm.load.avg5", "vm.load.avg15")), v)
check("report: uptime plausible (1..120 s) and equal to sys.uptime_s",
      1 <= reps[-1]["uptime_s"] <= 120 and v.get("sys.uptime_s") == reps[-1]["uptime_s"],
      reps[-1]["uptime_s"])
# The host said interval_ms 1000 in its register answer (node.conf had 5000).
t = [r["t"] for r in reqs if r["path"] == "/api/v1/node/report" and r["sig_ok"]]
gap = (t[-1] - t[0]) / (len(t) - 1)
check("host's interval_ms (1000) overrides node.conf's (5000)", 0.7 < gap < 2.0, "%.2f s" % gap)
res = {}
for r in reps:
    for x in r.get("results", []):
        res.setdefault(x["id"], x)
check("cpu1 taken offline through sysfs", res[1]["ok"] and res[1]["result"]["run"] == "offline", res[1])
check("cpu1 back online", res[2]["ok"] and res[2]["result"]["run"] == "online", res[2])
check("cpu1 audit ran on it", res[3]["ok"] and res[3]["result"]["detail"] == "ran on cpu1", res[3])
check("cpu0 offline refused with the reason", not res[4]["ok"] and "boot CPU" in res[4]["error"], res[4])
evs = {e["seq"]: e for r in reps for e in r.get("events", [])}
cpu1 = [e["attrs"]["run"] for s, e in sorted(evs.items()) if e["type"] == "device.state"
        and e["attrs"]["path"] == "cpu/cpu1"]
check("device.state events: cpu1 offline, then online", cpu1[:2] == ["offline", "online"], cpu1)
check("events: boot and agent.start", {"boot", "agent.start"} <= {e["type"] for e in evs.values()})
devs = {d["path"]: d for d in reps[-1].get("devices", [])}
check("devices: two CPUs, a watchdog PCI function that cannot be shut down",
      "cpu/cpu0" in devs and "cpu/cpu1" in devs and devs["cpu/cpu1"]["run"] == "online" and
      any("i6300" in d.get("stats", {}).get("driver", "").lower() and "shutdown" not in d["ops"]
          for d in devs.values()), sorted(devs))
check("kern.cpu.online back to 2", v.get("kern.cpu.online") == 2, v.get("kern.cpu.online"))
# The agent's own use at 1 s sampling, over the last reports.
first = [r for r in reps if 4 in {x["id"] for x in r.get("results", [])}][0]
last = reps[-1]
dt = last["uptime_s"] - first["uptime_s"]
cpu = last["values"]["agent.cpu_ms"] - first["values"]["agent.cpu_ms"]
print("# agent at 1 s sampling: RSS %d KiB, CPU %d ms over %d s of uptime (%.2f%% of one CPU, TCG)"
      % (last["values"]["agent.rss_kb"], cpu, dt, 100.0 * cpu / (dt * 1000)))
check("agent RSS under 8 MiB", 0 < last["values"]["agent.rss_kb"] < 8192, last["values"]["agent.rss_kb"])
print("# first report %.1f s after QEMU started, at guest uptime %d s"
      % (t[0] - float(sys.argv[4]), reps[0]["uptime_s"]))
sys.exit(1 if fails else 0)
EOF
[ $? = 0 ] || { _failures=$((_failures + 1)); show_serial; }

check "serial log: /init picked the NIC by snow.mac" \
	grep -q "^snow-init: .*service NIC eth0 ($mac)" "$work/serial.log"
check "serial log: modules loaded (the watchdog's first, then the NIC's)" grep -q '^snow-init: .*modules loaded: i6300esb pretimeout_panic virtio_pci virtio_net' "$work/serial.log"
check "serial log: DHCP lease" grep -q '^snow-init: .*dhcp: bound 10.0.2.15/24' "$work/serial.log"
check "serial log: agent registered" grep -q 'snow-agent\[info\]: registered with http://10.0.2.2' "$work/serial.log"
check "serial log: watchdog armed" grep -q 'snow-agent\[info\]: watchdog: /dev/watchdog armed' "$work/serial.log"
if grep -q "$secret" "$work/serial.log"; then not_ok "the node's secret appears in the serial log"; else ok "secret never logged"; fi
if grep -qE 'Kernel panic|not syncing' "$work/serial.log"; then not_ok "kernel panic"; show_serial; fi
grep -E '^snow-init:|snow-agent\[' "$work/serial.log" | sed 's/^/# /' | head -n 20

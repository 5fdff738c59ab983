#!/usr/bin/env bash
# snowd on loopback (no dnsmasq): the REST API through snowctl and curl, the
# signed node channel, refusals that change nothing, and what survives kill -9.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-api.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
start_snowd() {
	"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" \
		--boot-addr 127.0.0.1/8 --dnsmasq none --max-body 4096 --allow-dir "$dir" \
		--overlay-dir "$dir/overlay.d" ${SNOW_TEST_DB:+--db "$SNOW_TEST_DB"} -v >>"$dir/snowd.log" 2>&1 &
	pid=$!
	wait_for 10 curl -sf "$url/api/v1/health"
}
on_exit 'stop_pid $pid; [ "$_failures" -gt 0 ] && tail -40 "$dir/snowd.log"; rm -rf "$dir"'
# The admin's overlay templates (whole-system images only), checked when snowd starts.
mkdir -p "$dir/overlay.d/etc/slurm"
echo 'Welcome to {{name}} ({{ip}}), image {{image}}, from {{host_url}}' >"$dir/overlay.d/etc/motd"
echo 'NodeName={{name}} NodeAddr={{ip}}' >"$dir/overlay.d/etc/slurm/slurm.conf"
echo 'an editor swap file {{nope}}' >"$dir/overlay.d/etc/.motd.swp"
bad_overlay() { # bad_overlay WHAT: snowd -n refuses the folder, naming WHAT
	local msg
	msg=$("$SNOW_ASAN_BIN/snowd" -n --state-dir "$dir/chk" --dnsmasq none --boot-addr 127.0.0.1/8 \
		--overlay-dir "$dir/bad.d" 2>&1) && return 1
	grep -q "$1" <<<"$msg" || { echo "$msg"; return 1; }
}
mkdir -p "$dir/bad.d/etc" && echo 'host {{hostname}}' >"$dir/bad.d/etc/x"
check "a template with an unknown placeholder stops snowd, named" bad_overlay "overlay-dir: $dir/bad.d/etc/x: .*hostname"
rm "$dir/bad.d/etc/x" && ln -s /etc/passwd "$dir/bad.d/etc/passwd"
check "a template symlinked out of the folder stops snowd" bad_overlay "etc/passwd"
check "snowd starts" start_snowd
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }
status() { curl -s -o "$dir/out" -w '%{http_code}' "$@"; }
count_nodes() { ctl node list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

check_eq "health needs no token" 200 "$(status "$url/api/v1/health")"
check_eq "no token: 401" 401 "$(status "$url/api/v1/nodes")"
check_eq "wrong token: 401" 401 "$(status -H 'Authorization: Bearer snow_nope' "$url/api/v1/nodes")"
check_eq "unknown route: 404" 404 "$(status -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/nope")"

check "node add" ctl node add node1 --mac 52:54:00:aa:00:01 --ip 127.0.0.10
check "node add with an IP from the pool" ctl node add node2 --mac 52-54-00-AA-00-02
check_eq "two nodes listed" 2 "$(count_nodes)"
check_eq "pool address" 127.0.0.11 "$(ctl node show node2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ip"])')"
check_eq "MAC stored in canonical form" 52:54:00:aa:00:02 "$(ctl node show node2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mac"])')"

auth=(-H "Authorization: Bearer $SNOW_TOKEN" -H 'Content-Type: application/json')
check_eq "bad JSON: 400" 400 "$(status "${auth[@]}" -d '{"name":' "$url/api/v1/nodes")"
check "bad JSON: message names the body" grep -q '"body:' "$dir/out"
check_eq "unknown field: 400" 400 "$(status "${auth[@]}" -d '{"name":"n3","mac":"52:54:00:aa:00:03","color":"red"}' "$url/api/v1/nodes")"
check "unknown field named" grep -q 'color: unknown field' "$dir/out"
check_eq "wrong type: 400" 400 "$(status "${auth[@]}" -d '{"name":3,"mac":"52:54:00:aa:00:03"}' "$url/api/v1/nodes")"
big=$(python3 -c 'print("{\"name\":\"n3\",\"mac\":\"52:54:00:aa:00:03\",\"image\":\"" + "x"*5000 + "\"}")')
check_eq "body over --max-body: 413" 413 "$(status "${auth[@]}" -d "$big" "$url/api/v1/nodes")"
check_eq "ip outside the boot network: 400" 400 "$(status "${auth[@]}" -d '{"name":"n3","mac":"52:54:00:aa:00:03","ip":"10.0.0.1"}' "$url/api/v1/nodes")"
check_eq "refusals changed nothing" 2 "$(count_nodes)"

# Unknown MACs get a waiting script and are listed as discovered.
check "unknown MAC gets a retry script" bash -c "curl -sf '$url/boot/52-54-00-aa-00-99.ipxe' | grep -q 'not in the inventory'"
check "unknown MAC listed as discovered" bash -c "'$SNOW_ASAN_BIN/snowctl' discovered list | grep -q 52:54:00:aa:00:99"
check "boot script of a node names its kernel" bash -c "curl -sf '$url/boot/52-54-00-aa-00-01.ipxe' | grep -q 'kernel $url/boot/images/default/vmlinuz'"

# The overlay goes only to the node's own address, once per boot: inside the window
# its own script request opened.  A script asked from elsewhere is no boot stage.
stage() { ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("stage") or "none")'; }
check_eq "the script asked from another address moved no boot stage" none "$(stage)"
check_eq "overlay refused to the node's address without a boot window" 403 "$(status --interface 127.0.0.10 "$url/boot/52-54-00-aa-00-01/overlay.cpio")"
check "the refusal says how" grep -q 'once per boot' "$dir/out"
check_eq "the node's own script request" 200 "$(status --interface 127.0.0.10 "$url/boot/52-54-00-aa-00-01.ipxe")"
check_eq "it is a boot stage" script "$(stage)"
check_eq "overlay refused to another address" 403 "$(status "$url/boot/52-54-00-aa-00-01/overlay.cpio")"
check_eq "overlay served to the node's address" 200 "$(status --interface 127.0.0.10 -o "$dir/overlay.cpio" "$url/boot/52-54-00-aa-00-01/overlay.cpio")"
check_eq "overlay not served twice in one boot" 403 "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.10 "$url/boot/52-54-00-aa-00-01/overlay.cpio")"
mkdir -p "$dir/ov"
(cd "$dir/ov" && cpio -id --quiet <"$dir/out")
check_eq "overlay hostname" node1 "$(cat "$dir/ov/etc/hostname")"
secret=$(sed -n 's/^secret = //p' "$dir/ov/etc/snow/node.conf")
check "overlay holds a 64-hex-digit secret" grep -Eq '^[0-9a-f]{64}$' <<<"$secret"
check "no secret in snowd's log" bash -c "! grep -q '$secret' '$dir/snowd.log'"

# A whole-system image's /init tells how its root went: only from the node's address,
# only the states it may say, each a boot stage; a failure's reason reaches the log.
rootfs=$url/boot/52-54-00-aa-00-01/rootfs
check_eq "rootfs stage refused to another address" 403 "$(status "$rootfs/verified")"
check_eq "overlay is still the stage" overlay "$(stage)"
check_eq "rootfs: an unknown state is refused" 404 "$(status --interface 127.0.0.10 "$rootfs/exploded")"
check_eq "rootfs: an unknown MAC is refused" 404 "$(status --interface 127.0.0.10 "$url/boot/52-54-00-aa-00-77/rootfs/verified")"
check_eq "rootfs verified from the node" 200 "$(status --interface 127.0.0.10 "$rootfs/verified")"
check_eq "it is the stage rootfs_verified" rootfs_verified "$(stage)"
check_eq "rootfs failed, with a reason" 200 "$(status --interface 127.0.0.10 "$rootfs/failed?why=digest+mismatch%0Aforged+line")"
check_eq "it is the stage rootfs_failed" rootfs_failed "$(stage)"
check "the reason is in snowd's log, on one line" grep -q 'node node1: root filesystem failed: digest mismatch?forged line' "$dir/snowd.log"
check_eq "a busybox image has no rootfs.squashfs" 404 "$(status "$url/boot/images/default/rootfs.squashfs")"

# The node channel: signed, fresh, never replayed.
# sign PATH BODY [TIME [NONCE]]: signed headers into hdrs (kept for replays).
# Not in a subshell, so hdrs stays set for the caller.
sign() {
	local path=$1 body=$2; shift 2
	mapfile -t hdrs < <(python3 "$SNOW_TOP/tests/lib/nodesign.py" "$secret" node1 POST "$path" "$body" "$@")
}
# send PATH BODY: POST with the headers in hdrs -> HTTP status
send() { status "${hdrs[@]}" -H 'Content-Type: application/json' -d "$2" "$url$1"; }
reg='{"name":"node1","boot_id":"b-1","hostname":"node1","kernel":"6.1","version":"test"}'
sign /api/v1/node/register "$reg"
check_eq "register" 200 "$(send /api/v1/node/register "$reg")"
check "register answers the interval" grep -q interval_ms "$dir/out"
saved=("${hdrs[@]}")
rep='{"name":"node1","boot_id":"b-1","seq":1,"values":{"vm.load.avg1":0.5,"kern.mem.free_kb":1000}}'
sign /api/v1/node/report "$rep"
check_eq "report" 200 "$(send /api/v1/node/report "$rep")"
check_eq "tampered body refused" 401 "$(send /api/v1/node/report "${rep/0.5/9.5}")"
check "tampering named" grep -q 'bad signature' "$dir/out"
check_eq "node online" online "$(ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
check_eq "values stored" 1000 "$(ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["values"]["kern.mem.free_kb"])')"
check_eq "replayed register refused" 401 "$(status "${saved[@]}" -H 'Content-Type: application/json' -d "$reg" "$url/api/v1/node/register")"
check "replay named" grep -q replayed "$dir/out"
sign /api/v1/node/report "$rep" $(( $(date +%s) - 1000 ))
check_eq "stale time refused" 401 "$(send /api/v1/node/report "$rep")"
check "stale time named" grep -q 'stale' "$dir/out"
secret_saved=$secret; secret=$(printf '%064d' 0)
sign /api/v1/node/report "$rep"
check_eq "wrong secret refused" 401 "$(send /api/v1/node/report "$rep")"
secret=$secret_saved
# A nonce is bound to its time: one far ahead (INT64_MAX) is refused and never
# stored, so the node's next ordinary request still goes through.
sign /api/v1/node/report "$rep" "$(date +%s)" 9223372036854775807
check_eq "nonce INT64_MAX refused" 401 "$(send /api/v1/node/report "$rep")"
check "nonce out of its time window named" grep -q 'X-Snow-Nonce: not within' "$dir/out"
sign /api/v1/node/report "$rep"
check_eq "a normal report after it still works" 200 "$(send /api/v1/node/report "$rep")"
b='{"name":"node1","boot_id":"other","seq":2}'
sign /api/v1/node/report "$b"
check_eq "report from an unregistered boot: 404" 404 "$(send /api/v1/node/report "$b")"
b='{"name":"node1","boot_id":"b-1","seq":3,"values":{"x":"high"}}'
sign /api/v1/node/report "$b"
check_eq "report with a non-number value: 400" 400 "$(send /api/v1/node/report "$b")"
check "the bad value is named" grep -q 'values.x' "$dir/out"

# Answers are signed with the node's secret over the request's path and nonce
# (tests/lib/answercheck.py is an independent implementation).
nonce_of() { printf '%s\n' "${hdrs[@]}" | sed -n 's/^X-Snow-Nonce: //p'; }
# sendh PATH BODY: as send, and the answer's headers into $dir/hdr
sendh() { status -D "$dir/hdr" "${hdrs[@]}" -H 'Content-Type: application/json' -d "$2" "$url$1"; }
b='{"name":"node1","boot_id":"b-1","seq":3,"values":{"x":1}}'
sign /api/v1/node/report "$b"
check_eq "a report" 200 "$(sendh /api/v1/node/report "$b")"
check "its answer is signed over its nonce" python3 "$SNOW_TOP/tests/lib/answercheck.py" "$secret" /api/v1/node/report "$(nonce_of)" "$dir/hdr" "$dir/out"
check "a signature over another nonce does not fit it" bash -c "! python3 '$SNOW_TOP/tests/lib/answercheck.py' '$secret' /api/v1/node/report 1 '$dir/hdr' '$dir/out' 2>/dev/null"
sign /api/v1/node/register "$reg"
check_eq "a register" 200 "$(sendh /api/v1/node/register "$reg")"
check "its answer is signed" python3 "$SNOW_TOP/tests/lib/answercheck.py" "$secret" /api/v1/node/register "$(nonce_of)" "$dir/hdr" "$dir/out"
# config.reload's overlay: the signed route, at any time, the answer signed.
sign /api/v1/node/overlay '{"name":"node1"}'
check_eq "the overlay by the signed route" 200 "$(sendh /api/v1/node/overlay '{"name":"node1"}')"
check "its answer is signed" python3 "$SNOW_TOP/tests/lib/answercheck.py" "$secret" /api/v1/node/overlay "$(nonce_of)" "$dir/hdr" "$dir/out"
check "it is the overlay" bash -c "cpio -i --to-stdout --quiet etc/snow/node.conf <'$dir/out' | grep -q '^secret = $secret'"
check_eq "the signed route refuses an unsigned request" 401 "$(status -d '{"name":"node1"}' "$url/api/v1/node/overlay")"

# Rekey: a new secret, sent to the agent in an answer signed with the old one;
# the old one works until the agent signs with the new one, then never again.
check "node rekey" ctl node rekey node1
b='{"name":"node1","boot_id":"b-1","seq":4}'
sign /api/v1/node/report "$b"
check_eq "a report signed with the old secret still works" 200 "$(sendh /api/v1/node/report "$b")"
check "its answer is signed with the old secret" python3 "$SNOW_TOP/tests/lib/answercheck.py" "$secret" /api/v1/node/report "$(nonce_of)" "$dir/hdr" "$dir/out"
newsecret=$(python3 -c "import json; print(json.load(open('$dir/out')).get('rekey', ''))")
check "and carries the new secret" grep -Eq '^[0-9a-f]{64}$' <<<"$newsecret"
check "the new secret is a new one" test "$newsecret" != "$secret"
oldsecret=$secret; secret=$newsecret
sign /api/v1/node/report "$b"
check_eq "a report signed with the new secret works" 200 "$(sendh /api/v1/node/report "$b")"
check "its answer is signed with the new secret" python3 "$SNOW_TOP/tests/lib/answercheck.py" "$secret" /api/v1/node/report "$(nonce_of)" "$dir/hdr" "$dir/out"
check "and carries no rekey" bash -c "! grep -q rekey '$dir/out'"
secret=$oldsecret
sign /api/v1/node/report "$b"
check_eq "the old secret is refused from then on" 401 "$(send /api/v1/node/report "$b")"
secret=$newsecret
check_eq "the next boot's overlay has the new secret" "$newsecret" "$(node_secret "$url" 52:54:00:aa:00:01 127.0.0.10 "$dir/ov3")"
check_eq "rekey of an unknown node: 404" 404 "$(status "${auth[@]}" -X POST "$url/api/v1/nodes/nosuch/rekey")"

# Commands: checked when queued, delivered in report answers, results kept.
refuse_cmd() { # refuse_cmd FIELD JSON: the API answers 400 naming FIELD, nothing queued
	local code
	code=$(status "${auth[@]}" -d "$2" "$url/api/v1/nodes/node1/commands")
	if [ "$code" = 400 ] && grep -q "\"$1" "$dir/out"; then ok "command refused: $2 ($(cat "$dir/out"))"
	else not_ok "command $2: got $code $(cat "$dir/out"), want 400 naming $1"; fi
}
refuse_cmd op '{"op":"format-disk"}'
refuse_cmd args.clear '{"op":"threshold.set","args":{"value":"kern.mem.free_kb","kind":"high","rise":10,"clear":20}}'
refuse_cmd args.clear '{"op":"threshold.set","args":{"value":"kern.mem.free_kb","kind":"low","rise":20,"clear":10}}'
refuse_cmd args.kind '{"op":"threshold.set","args":{"value":"x","kind":"sideways","rise":1,"clear":1}}'
refuse_cmd args.op '{"op":"device","args":{"path":"cpu/cpu1","op":"explode"}}'
refuse_cmd args.name '{"op":"sysctl.set","args":{"name":"../../etc/passwd","value":"1"}}'
refuse_cmd args.color '{"op":"reboot","args":{"color":"red"}}'
# What every agent would refuse (lib/instr.c's rules), the API refuses too.
refuse_cmd args.value '{"op":"threshold.set","args":{"value":"'"$(printf 'a%.0s' {1..64})"'","kind":"high","rise":1,"clear":0}}'
refuse_cmd args.name '{"op":"sysctl.get","args":{"name":"vm.swappiness."}}'
refuse_cmd args.path '{"op":"device","args":{"path":"cpu/cpu 1","op":"offline"}}'
refuse_cmd args.value '{"op":"sysctl.set","args":{"name":"vm.swappiness","value":"1\n2"}}'
check_eq "refused commands queued nothing" 0 "$(ctl command list node1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo x)"
check "threshold.set queued" ctl --url "$url" threshold set node1 kern.mem.free_kb --low --rise 500 --clear 600 --no-wait
cmd_id=$(ctl command list node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
rep='{"name":"node1","boot_id":"b-1","seq":4,"values":{"kern.mem.free_kb":400}}'
sign /api/v1/node/report "$rep"; send /api/v1/node/report "$rep" >/dev/null
check "the report answer carries the command" python3 -c "
import json,sys; a=json.load(open('$dir/out')); c=a['commands']
sys.exit(0 if c and c[0]['id']==$cmd_id and c[0]['op']=='threshold.set' and c[0]['args']['rise']==500 else 1)"
check_eq "command marked sent" sent "$(ctl command show "$cmd_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
# Results and events in one report, then the same report again (a resend
# after a lost answer): stored once, acknowledged.
rep='{"name":"node1","boot_id":"b-1","seq":5,"values":{"kern.mem.free_kb":400},
 "thresholds":[{"value":"kern.mem.free_kb","kind":"low","rise":500,"clear":600,"samples":1,"state":"raised"}],
 "devices":[{"path":"cpu/cpu1","class":"cpu","avail":"enabled","run":"online","ops":["offline"]}],
 "results":[{"id":'$cmd_id',"ok":true,"result":{"set":"kern.mem.free_kb"}}],
 "events":[{"seq":1,"time":1795240000,"type":"agent.start","attrs":{}},
           {"seq":2,"time":1795240001,"type":"threshold.raise","attrs":{"value":"kern.mem.free_kb","observed":400}}]}'
for try in 1 2; do
	sign /api/v1/node/report "$rep"
	check_eq "report with events and results (try $try)" 200 "$(send /api/v1/node/report "$rep")"
	check_eq "events acknowledged up to 2 (try $try)" 2 "$(python3 -c "import json; print(json.load(open('$dir/out'))['ack_events'])")"
done
check_eq "command done" done "$(ctl command show "$cmd_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
check_eq "no command pending any more" 0 "$(python3 -c "import json; print(len(json.load(open('$dir/out'))['commands']))")"
check_eq "events stored once" 2 "$(ctl events --node node1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check "snowctl events shows the raise" bash -c "'$SNOW_ASAN_BIN/snowctl' events | grep -q 'threshold.raise'"
first_id=$(ctl events --node node1 --json | python3 -c 'import json,sys; print(min(e["id"] for e in json.load(sys.stdin)))')
check "events after an id, oldest first" bash -c "curl -s -H 'Authorization: Bearer $SNOW_TOKEN' '$url/api/v1/events?after=$((first_id - 1))' | python3 -c 'import json,sys; e=json.load(sys.stdin)[\"events\"]; sys.exit(0 if [x[\"seq\"] for x in e]==[1,2] else 1)'"
check_eq "after: a bad id is refused" 400 "$(status -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/events?after=x")"
check "node show lists devices and thresholds" python3 -c "
import json,subprocess,sys; n=json.loads(subprocess.check_output(['$SNOW_ASAN_BIN/snowctl','node','show','node1','--json']))
sys.exit(0 if n['devices'][0]['path']=='cpu/cpu1' and n['thresholds'][0]['state']=='raised' else 1)"
bad='{"name":"node1","boot_id":"b-1","seq":6,"events":[{"seq":0,"time":1,"type":"x"}]}'
sign /api/v1/node/report "$bad"
check_eq "an event with seq 0 is refused" 400 "$(send /api/v1/node/report "$bad")"
check "the bad event is named" grep -q 'events\[0\]' "$dir/out"
check_eq "and nothing of it stored" 2 "$(ctl events --node node1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# Profiles and settings: inherited unless the node sets its own, origins shown,
# rendered into the script and the overlay, refused when malformed.
check "profile add" ctl profile add compute image=compute cmdline=nosmt env.OMP_NUM_THREADS=4 \
	'thresholds=[{"value":"kern.mem.free_kb","kind":"low","rise":100,"clear":200}]'
check "node set: profile, own env and interval" ctl node set node1 --profile compute env.JOB=lattice interval_ms=1000
ctl node show node1 --json >"$dir/n1.json"
check "effective: image from the profile, env from the node, groups by default" python3 -c "
import json,sys; n=json.load(open('$dir/n1.json')); e=n['effective']; o=n['origins']
ok = e['image']=='compute' and o['image']=='profile compute' and e['env']=={'JOB':'lattice'} and o['env']=='node' and o['groups']=='default' and e['interval_ms']==1000
sys.exit(0 if ok else print(e, o) or 1)"
check "node show says where each setting comes from" bash -c "'$SNOW_ASAN_BIN/snowctl' node show node1 | grep -q 'image .*\"compute\" .*(profile compute)'"
check "the script boots the profile's image with its kernel arguments" bash -c "curl -sf '$url/boot/52-54-00-aa-00-01.ipxe' | grep -q 'images/compute/vmlinuz.* nosmt snow.mac='"
ov() { rm -rf "$dir/ov2"; mkdir "$dir/ov2"; curl -s -o /dev/null --interface 127.0.0.10 "$url/boot/52-54-00-aa-00-01.ipxe"; curl -s --interface 127.0.0.10 "$url/boot/52-54-00-aa-00-01/overlay.cpio" | (cd "$dir/ov2" && cpio -id --quiet); }
ov
check "overlay: env and the profile's threshold in node.conf" bash -c "grep -q '^env.JOB = lattice' '$dir/ov2/etc/snow/node.conf' && grep -q '^threshold.kern.mem.free_kb = low 100 200 1' '$dir/ov2/etc/snow/node.conf' && grep -q '^interval_ms = 1000' '$dir/ov2/etc/snow/node.conf'"
check "overlay: /etc/snow/env for shells" grep -q "^export JOB='lattice'" "$dir/ov2/etc/snow/env"
ctl node set node1 env.JOB=stencil >/dev/null
ov
check "a changed setting reaches the next overlay (cache invalidated)" grep -q '^env.JOB = stencil' "$dir/ov2/etc/snow/node.conf"
ctl profile set compute env.OMP_NUM_THREADS=8 >/dev/null
ctl node set node1 env= >/dev/null
ov
check "unset env falls back to the profile's" grep -q '^env.OMP_NUM_THREADS = 8' "$dir/ov2/etc/snow/node.conf"
bad_set() { # bad_set FIELD ARGS...
	local field=$1 msg rc; shift
	msg=$(ctl node set node1 "$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ] && grep -q "$field" <<<"$msg"; then ok "refused: node set $* ($msg)"; else not_ok "node set $*: rc=$rc '$msg' should name $field"; fi
}
bad_set image: image=Not_A_Name
bad_set env.1X env.1X=1
bad_set "thresholds\[0\].clear" 'thresholds=[{"value":"x","kind":"high","rise":1,"clear":2}]'
bad_set interval_ms: interval_ms=5
bad_set color color=red
bad_set "power.driver" 'power={"driver":"telepathy"}'
bad_set profile: --profile nosuch
check_eq "refusals changed nothing" 1000 "$(ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["effective"]["interval_ms"])')"
check_eq "a profile in use cannot be removed" 1 "$(ctl profile rm compute >/dev/null 2>&1; echo $?)"
check "node set --reboot queues a reboot" bash -c "'$SNOW_ASAN_BIN/snowctl' node set node1 --reboot | grep -q 'reboot queued'"
check "node leaves its profile" ctl node set node1 --no-profile
check "then the profile can go" ctl profile rm compute

# Power drivers: the agent cannot switch a node on; ipmi runs the real
# ipmitool (no BMC answers on loopback, so it fails and says so).
code=$(status "${auth[@]}" -d '{"op":"power.on"}' "$url/api/v1/nodes/node1/commands")
check_eq "power.on with the agent driver: 409" 409 "$code"
check "and the reason is named" grep -q 'needs a power driver' "$dir/out"
check "power.off with the agent driver becomes the agent's poweroff" bash -c "'$SNOW_ASAN_BIN/snowctl' node power node1 off --no-wait | grep -q '(poweroff on node1): queued'"
printf 'not-on-argv-7\n' >"$dir/ipmi.pw"
ctl node set node1 "power={\"driver\":\"ipmi\",\"host\":\"127.0.0.1\",\"user\":\"admin\",\"password_file\":\"$dir/ipmi.pw\"}" >/dev/null
msg=$(ctl node power node1 status --timeout 60 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'failed: ipmitool exited with' <<<"$msg"; then ok "ipmi: ipmitool ran and its failure is reported ($msg)"; else not_ok "ipmi: rc=$rc '$msg'"; fi
check "no password in snowd's log" bash -c "! grep -q not-on-argv-7 '$dir/snowd.log'"
ctl node set node1 'power={"driver":"ipmi","host":"127.0.0.1","user":"admin","password_file":"/nonexistent"}' >/dev/null
msg=$(ctl node power node1 on 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'power.password_file: /nonexistent' <<<"$msg"; then ok "ipmi: an unreadable password file is named ($msg)"; else not_ok "ipmi: rc=$rc '$msg'"; fi
ctl node set node1 power= >/dev/null
# Files an admin names are confined to --allow-dir, regular files only, opened without blocking.
ctl node set node1 'power={"driver":"ipmi","host":"127.0.0.1","user":"admin","password_file":"/etc/shadow"}' >/dev/null
msg=$(ctl node power node1 on 2>&1) && rc=0 || rc=$?
check "ipmi: a password file outside --allow-dir is refused ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'outside the folders snowd may read' <<<'$msg'"
mkfifo "$dir/pw.fifo"
ctl node set node1 "power={\"driver\":\"ipmi\",\"host\":\"127.0.0.1\",\"user\":\"admin\",\"password_file\":\"$dir/pw.fifo\"}" >/dev/null
msg=$(timeout 20 "$SNOW_ASAN_BIN/snowctl" node power node1 on 2>&1) && rc=0 || rc=$?
check "ipmi: a FIFO as password file fails at once, snowd does not hang ($msg)" bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'not a regular file' <<<'$msg'"
ctl node set node1 power= >/dev/null
ctl node set node1 console_log=/etc/shadow >/dev/null
check_eq "console_log outside --allow-dir: 403" 403 "$(curl -s -o "$dir/out" -w '%{http_code}' -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/nodes/node1/console")"
check "and nothing of the file is shown" bash -c "! grep -q 'root:' '$dir/out' && grep -q 'outside the folders' '$dir/out'"
printf 'serial line one\n' >"$dir/node1.serial"
ctl node set node1 "console_log=$dir/node1.serial" >/dev/null
check "console_log inside --allow-dir is served" bash -c "curl -s -H 'Authorization: Bearer $SNOW_TOKEN' '$url/api/v1/nodes/node1/console' | grep -q 'serial line one'"
ctl node set node1 console_log= >/dev/null
msg=$(ctl image add img9 --kernel /etc/passwd --initrd /etc/passwd 2>&1) && rc=0 || rc=$?
check "image add from outside --allow-dir is refused, named ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'kernel: /etc/passwd is outside' <<<'$msg'"

# A discovered MAC adopted with a name and a profile; commands to a list,
# a group, or all nodes at once.
ctl profile add rack1 'groups=["rack1"]' >/dev/null
check "discovered MAC adopted with a profile" ctl discovered adopt 52:54:00:aa:00:99 node9 --profile rack1
check "adopted: no longer discovered" bash -c "! '$SNOW_ASAN_BIN/snowctl' discovered list | grep -q 52:54:00:aa:00:99"
check_eq "a command to a list queues one per node" 2 "$(ctl watermarks reset node1,node9 --no-wait | grep -c queued)"
check_eq "to @group: the nodes whose groups hold it" "node9" "$(ctl watermarks reset @rack1 --no-wait | sed -n 's/.* on \([a-z0-9]*\)): queued/\1/p' | tr '\n' ' ' | sed 's/ $//')"
check_eq "to all" "$(count_nodes)" "$(ctl watermarks reset all --no-wait | grep -c queued)"
check "an empty group is refused, named" bash -c "'$SNOW_ASAN_BIN/snowctl' watermarks reset @nosuch --no-wait 2>&1 | grep -q '@nosuch: no node matches'"
check_eq "an integer sysctl value is queued, as agents take it" 202 "$(status "${auth[@]}" -d '{"op":"sysctl.set","args":{"name":"vm.swappiness","value":10}}' "$url/api/v1/nodes/node1/commands")"
ctl node set node9 --no-profile >/dev/null; ctl profile rm rack1 >/dev/null; ctl node rm node9 >/dev/null

# Images: a node's script names the version current when it asked, so a
# rebuild never changes files under a boot; the last 3 versions are kept.
mkimg() { head -c 3000 /dev/urandom >"$dir/k$1"; head -c 5000 /dev/urandom >"$dir/i$1"; }
script_ref() { curl -sf "$url/boot/52-54-00-aa-00-01.ipxe" | sed -n 's|^kernel .*/boot/images/\([^/]*\)/vmlinuz.*|\1|p'; }
mkimg 1
check "image add" ctl image add img1 --kernel "$dir/k1" --initrd "$dir/i1"
ctl node set node1 image=img1 >/dev/null
ref1=$(script_ref)
check "the script names the image's version" grep -Eq '^img1@[0-9a-f]{16}$' <<<"$ref1"
check "the version's files are served" bash -c "curl -sf '$url/boot/images/$ref1/initrd' | cmp -s - '$dir/i1'"
mkimg 2; ctl image add img1 --kernel "$dir/k2" --initrd "$dir/i2" >/dev/null
ref2=$(script_ref)
check "a rebuild: new scripts name the new version" test "$ref2" != "$ref1" -a -n "$ref2"
check "a boot that began before the rebuild still gets its files" bash -c "curl -sf '$url/boot/images/$ref1/vmlinuz' | cmp -s - '$dir/k1'"
for n in 3 4; do mkimg $n; ctl image add img1 --kernel "$dir/k$n" --initrd "$dir/i$n" >/dev/null; done
check_eq "only the last 3 versions are kept" 404 "$(status "$url/boot/images/$ref1/vmlinuz")"
check_eq "image list" 3 "$(ctl image list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
msg=$(ctl image add img2 --kernel /etc/hostname --initrd /nonexistent 2>&1) && rc=0 || rc=$?
check "a missing initrd is refused, named" test "$rc" -ne 0
check_eq "bad image version: 404" 404 "$(status "$url/boot/images/img1@0123456789abcdef/vmlinuz")"
# A whole-system image: its squashfs is part of the version and served with it.
head -c 7000 /dev/urandom >"$dir/r1"
check "image add --rootfs" ctl image add sys1 --kernel "$dir/k1" --initrd "$dir/i1" --rootfs "$dir/r1"
sysref=sys1@$(ctl image list | awk '$1 == "sys1" { print $2; exit }')
check "the version's rootfs.squashfs is served" bash -c "curl -sf '$url/boot/images/$sysref/rootfs.squashfs' | cmp -s - '$dir/r1'"
check_eq "another version for another squashfs, same kernel and initrd" 2 "$(head -c 7000 /dev/urandom >"$dir/r2"; ctl image add sys1 --kernel "$dir/k1" --initrd "$dir/i1" --rootfs "$dir/r2" >/dev/null; ctl image list | grep -c '^sys1 ')"
check "the first version's squashfs is still served" bash -c "curl -sf '$url/boot/images/$sysref/rootfs.squashfs' | cmp -s - '$dir/r1'"
msg=$(ctl image add sys2 --kernel "$dir/k1" --initrd "$dir/i1" --rootfs /nonexistent 2>&1) && rc=0 || rc=$?
check "a missing rootfs is refused, named ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'rootfs' <<<'$msg'"
# Whole-system images: the node's SSH host key, made once and kept by snowd, and the
# admin's authorized_keys (STATE/authorized_keys by default) under etc/snow/overlay/.
hk=etc/snow/overlay/etc/ssh/ssh_host_ed25519_key
ov
check "a busybox image gets no SSH host key (it runs no sshd)" test ! -e "$dir/ov2/$hk"
check "nor does snowd make one for it" test ! -e "$dir/state/ssh/node1"
ctl node set node1 image=sys1 >/dev/null
ov
rm -rf "$dir/ov-sys"; cp -a "$dir/ov2" "$dir/ov-sys"
check "overlay: the node's SSH host key" bash -c "grep -q 'BEGIN OPENSSH PRIVATE KEY' '$dir/ov2/$hk' && grep -q '^ssh-ed25519 .* root@node1' '$dir/ov2/$hk.pub'"
ctl node set node1 env.SSH=1 >/dev/null
ov
check "the same key in the next overlay, and the one snowd keeps" \
	bash -c "cmp -s '$dir/ov-sys/$hk.pub' '$dir/ov2/$hk.pub' && cmp -s '$dir/ov2/$hk.pub' '$dir/state/ssh/node1/ssh_host_ed25519_key.pub'"
check_eq "the private key is 0600 in the overlay" 600 "$(stat -c %a "$dir/ov2/$hk")"
check "no authorized_keys without the file" test ! -e "$dir/ov2/etc/snow/overlay/root/.ssh/authorized_keys"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5ub3RhcmVhbGtleWZvcnRoZXRlc3Rvbmx5Li4u admin@test" >"$dir/state/authorized_keys"
ctl node set node1 env.KEYS=1 >/dev/null
ov
check "overlay: root's authorized_keys from STATE/authorized_keys" grep -q 'admin@test' "$dir/ov2/etc/snow/overlay/root/.ssh/authorized_keys"
check "the host key did not change" cmp -s "$dir/ov-sys/$hk.pub" "$dir/ov2/$hk.pub"
check "overlay: the cluster's /etc/hosts, every node" bash -c "grep -qx '127.0.0.10	node1' '$dir/ov2/etc/snow/overlay/etc/hosts' && grep -qx '127.0.0.11	node2' '$dir/ov2/etc/snow/overlay/etc/hosts'"
check_eq "overlay: the admin's template rendered for the node" "Welcome to node1 (127.0.0.10), image sys1, from $url" "$(cat "$dir/ov2/etc/snow/overlay/etc/motd")"
check "overlay: templates in subfolders" grep -qx 'NodeName=node1 NodeAddr=127.0.0.10' "$dir/ov2/etc/snow/overlay/etc/slurm/slurm.conf"
check "overlay: hidden files are not templates" test ! -e "$dir/ov2/etc/snow/overlay/etc/.motd.swp"
check "overlay: login shells read the environment" grep -q '/etc/snow/env' "$dir/ov2/etc/snow/overlay/etc/profile.d/snow-env.sh"
check "overlay: no compute NIC file without SNOW_NIC_MAC" test ! -e "$dir/ov2/etc/snow/overlay/etc/systemd/network/20-snow-compute.network"
ctl node set node1 env.SNOW_NIC_MAC=52:54:00:ab:01:01 env.SNOW_NIC_MTU=9000 env.SNOW_NIC_ADDR=10.78.0.1/24 >/dev/null
ov
check "overlay: the compute NIC for systemd-networkd" bash -c "grep -qx 'MACAddress=52:54:00:ab:01:01' '$dir/ov2/etc/snow/overlay/etc/systemd/network/20-snow-compute.network' && grep -qx 'MTUBytes=9000' '$dir/ov2/etc/snow/overlay/etc/systemd/network/20-snow-compute.network' && grep -qx 'Address=10.78.0.1/24' '$dir/ov2/etc/snow/overlay/etc/systemd/network/20-snow-compute.network'"
ctl node add node3 --mac 52:54:00:aa:00:03 --ip 127.0.0.13 >/dev/null
ov
check "a node added reaches the others' /etc/hosts" grep -qx '127.0.0.13	node3' "$dir/ov2/etc/snow/overlay/etc/hosts"
ctl node rm node3 >/dev/null
ov
check "and a node removed leaves it" bash -c "! grep -q node3 '$dir/ov2/etc/snow/overlay/etc/hosts'"
ctl node set node1 env= >/dev/null

# Removing an image: refused while a node or a profile boots it, naming them.
sysold=$(ctl image list | awk '$1 == "sys1" { v = $2 } END { print v }')
msg=$(ctl image rm sys1 2>&1) && rc=0 || rc=$?
check "image rm of an image node1 uses is refused, naming it ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'sys1 is used by node node1' <<<'$msg'"
check_eq "with 409" 409 "$(status -X DELETE -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/images/sys1")"
check_eq "and nothing removed" 2 "$(ctl image list | grep -c '^sys1 ')"
ctl node set node1 image= >/dev/null
ctl profile add sysp image=sys1 >/dev/null
msg=$(ctl image rm "sys1@$(ctl image list | awk '$1 == "sys1" { print $2; exit }')" 2>&1) && rc=0 || rc=$?
check "the current version a profile boots is refused too ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'used by profile sysp' <<<'$msg'"
check "an older version goes (nodes boot the newest)" ctl image rm "sys1@$sysold"
check_eq "its files are gone" 404 "$(status "$url/boot/images/sys1@$sysold/rootfs.squashfs")"
ctl profile rm sysp >/dev/null
check "unused now: image rm sys1" ctl image rm sys1
check_eq "no version left" 0 "$(ctl image list | grep -c '^sys1 ' || true)"
check "its registry folder is gone" test ! -e "$dir/state/registry/sys1"
ctl image rm sys1 >/dev/null 2>&1 && rc=0 || rc=$?
check_eq "image rm of an image not registered: exit 3 (404)" 3 "$rc"
check_eq "a bad version: 400" 400 "$(status -X DELETE -H "Authorization: Bearer $SNOW_TOKEN" "$url/api/v1/images/img1@xyz")"
# snow-image rm asks snowd first, then removes the image's folder.
mkdir -p "$dir/images/img1" "$dir/images/gone1"
ctl node set node1 image=img1 >/dev/null
msg=$("$SNOW_BIN/snow-image" rm img1 --out "$dir/images" 2>&1) && rc=0 || rc=$?
check "snow-image rm refuses an image node1 uses ($msg)" bash -c "[ $rc -ne 0 ] && grep -q 'img1 is used by node node1' <<<'$msg'"
check "and keeps its folder" test -d "$dir/images/img1"
ctl node set node1 image= >/dev/null
check "snow-image rm once no node uses it" "$SNOW_BIN/snow-image" rm img1 --out "$dir/images"
check "the folder and every version are gone" bash -c "[ ! -e '$dir/images/img1' ] && ! '$SNOW_ASAN_BIN/snowctl' image list | grep -q '^img1 '"
check "snow-image rm of an image snowd never registered removes the folder" "$SNOW_BIN/snow-image" rm gone1 --out "$dir/images"
check "(gone)" test ! -e "$dir/images/gone1"

# kill -9: everything acknowledged is still there; old nonces stay refused.
ctl node rm node2 >/dev/null
check_eq "one node left" 1 "$(count_nodes)"
kill -9 "$pid"; wait "$pid" 2>/dev/null
check "snowd restarts after kill -9" start_snowd
check_eq "inventory survived kill -9" 1 "$(count_nodes)"
check_eq "events survived kill -9" 2 "$(ctl events --node node1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check_eq "command results survived kill -9" done "$(ctl command show "$cmd_id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
check_eq "replay still refused after restart" 401 "$(status "${saved[@]}" -H 'Content-Type: application/json' -d "$reg" "$url/api/v1/node/register")"

# kill -9 in the middle of a stream of signed reports (the group commit,
# host/chan.c): every event a 200 acknowledged is stored after the restart,
# and every request that was answered is refused when played again.
python3 - "$url" "$secret" "$dir/rep-acked" >"$dir/reporter.log" 2>&1 <<'PY' &
import hashlib, hmac, http.client, json, sys, time, urllib.parse
url, secret, out = sys.argv[1], sys.argv[2], open(sys.argv[3], "w")
u = urllib.parse.urlparse(url)
last = 0
def post(conn, path, body):
    global last
    t = int(time.time()); nonce = max(time.time_ns() // 1000, last + 1); last = nonce
    sig = hmac.new(secret.encode(), ("POST\n%s\n%d\n%d\n" % (path, t, nonce)).encode() + body.encode(),
                   hashlib.sha256).hexdigest()
    hdrs = {"X-Snow-Node": "node1", "X-Snow-Time": str(t), "X-Snow-Nonce": str(nonce),
            "X-Snow-Signature": sig, "Content-Type": "application/json"}
    conn.request("POST", path, body, hdrs)
    r = conn.getresponse(); r.read()
    return r.status, hdrs
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)  # kept alive, as the agent's
st, _ = post(conn, "/api/v1/node/register", json.dumps({"name": "node1", "boot_id": "b-k9"}))
assert st == 200, st
for seq in range(1, 100000):
    body = json.dumps({"name": "node1", "boot_id": "b-k9", "seq": seq, "values": {"vm.load.avg1": 0.5},
                       "events": [{"seq": seq, "time": int(time.time()), "type": "agent.start", "attrs": {}}]})
    try:
        st, hdrs = post(conn, "/api/v1/node/report", body)
    except OSError:
        break
    if st == 200:
        out.write(json.dumps({"seq": seq, "headers": hdrs, "body": body}) + "\n"); out.flush()
PY
reporter=$!
wait_for 20 bash -c "[ \$(wc -l < '$dir/rep-acked' 2>/dev/null || echo 0) -ge 50 ]"
kill -9 "$pid"; wait "$pid" 2>/dev/null
wait "$reporter" 2>/dev/null
check "snowd restarts after kill -9 mid-reports ($(wc -l <"$dir/rep-acked") reports acknowledged)" start_snowd
check_eq "every acknowledged event survived kill -9" "" "$(ctl events --node node1 --limit 10000 --json | python3 -c '
import json, sys
have = {e["seq"] for e in json.load(sys.stdin) if e.get("boot_id") == "b-k9"}
acked = [json.loads(l)["seq"] for l in open(sys.argv[1])]
print(" ".join(str(s) for s in acked if s not in have)[:200])' "$dir/rep-acked")"
check_eq "the last 5 acknowledged reports, played again, are refused" "401 401 401 401 401" "$(tail -5 "$dir/rep-acked" | python3 -c '
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); got = []
for l in sys.stdin:
    r = json.loads(l); c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    c.request("POST", "/api/v1/node/report", r["body"], r["headers"]); got.append(str(c.getresponse().status))
print(" ".join(got))' "$url")"

# kill -9 in the middle of a stream of writes: every add that was answered
# 201 is in the inventory after the restart.
python3 - "$url" "$SNOW_TOKEN" "$dir/acked" >"$dir/writer.log" 2>&1 <<'PY' &
import http.client, json, sys, urllib.parse
url, token, out = sys.argv[1], sys.argv[2], open(sys.argv[3], "w")
u = urllib.parse.urlparse(url)
for i in range(100000):
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        c.request("POST", "/api/v1/nodes", json.dumps({"name": "w%d" % i, "mac": "02:00:00:01:%02x:%02x" % (i // 256, i % 256)}),
                  {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        if c.getresponse().status == 201:
            out.write("w%d\n" % i); out.flush()
    except OSError:
        break
PY
writer=$!
wait_for 10 bash -c "[ \$(wc -l < '$dir/acked') -ge 50 ]"
kill -9 "$pid"; wait "$pid" 2>/dev/null
wait "$writer" 2>/dev/null
acked=$(wc -l <"$dir/acked")
check "snowd restarts after kill -9 mid-stream ($acked adds acknowledged)" start_snowd
ctl node list --json | python3 -c 'import json,sys; print("\n".join(n["name"] for n in json.load(sys.stdin)))' >"$dir/have"
check_eq "every acknowledged add survived" "" "$(comm -23 <(sort "$dir/acked") <(sort "$dir/have") | head -5 | tr '\n' ' ')"

# --check-config
msg=$("$SNOW_ASAN_BIN/snowd" --boot-addr 10.0.0.300/24 --dnsmasq none -n 2>&1) && rc=0 || rc=$?
check "--check-config refuses a bad boot-addr, naming it ($msg)" test "$rc" -ne 0 -a -n "$(grep 'boot-addr:' <<<"$msg")"
check "--check-config runs dnsmasq's own check" bash -c "'$SNOW_BIN/snowd' --boot-addr 10.77.0.1/24 --boot-if lo -n | grep -q 'configuration OK'"

# SIGHUP reads the config file again: what can change does, what cannot is named.
stop_pid $pid; pid=
printf 'listen = 127.0.0.1:%s\nboot-addr = 127.0.0.1/8\ndnsmasq = none\ninterval-ms = 2000\nallow-dir = %s\n' "$port" "$dir" >"$dir/snowd.conf"
"$SNOW_ASAN_BIN/snowd" --config "$dir/snowd.conf" --state-dir "$dir/state" ${SNOW_TEST_DB:+--db "$SNOW_TEST_DB"} >>"$dir/snowd.log" 2>&1 &
pid=$!
check "snowd starts from a config file" wait_for 10 curl -sf "$url/api/v1/health"
interval() { ctl node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["effective"]["interval_ms"])'; }
ctl node set node1 interval_ms= >/dev/null
check_eq "interval from the file" 2000 "$(interval)"
printf 'listen = 127.0.0.1:1\nboot-addr = 127.0.0.1/8\ndnsmasq = none\ninterval-ms = 1500\n' >"$dir/snowd.conf"
kill -HUP "$pid"
check "SIGHUP applies the new interval" wait_for 5 bash -c "[ \"\$('$SNOW_ASAN_BIN/snowctl' node show node1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"effective\"][\"interval_ms\"])')\" = 1500 ]"
check "and names what takes a restart" grep -q 'SIGHUP: listen changed: it takes a restart' "$dir/snowd.log"
printf 'interval-ms = fast\n' >"$dir/snowd.conf"
kill -HUP "$pid"
check "a bad file changes nothing, and says why" wait_for 5 grep -q 'SIGHUP: .*interval-ms.*nothing changed' "$dir/snowd.log"
check_eq "interval unchanged" 1500 "$(interval)"

# The sanitizer build must have found nothing, leaks at exit included.
stop_pid $pid; pid=
check_sanitizer "$dir/snowd.log"

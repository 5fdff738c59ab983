#!/usr/bin/env bash
# SFF-8472 transceiver diagnostics in the agent: a fixture interface with a
# module EEPROM dump (made here, with known readings and limits) becomes
# net.IF.xcvr.* gauges, an xcvr/IF device, and thresholds from the module's
# own alarm and warning limits.  (Real modules are read through ethtool's
# module EEPROM ioctl, which a fixture cannot answer; no module here has one.)
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-xcvr.XXXXXX)
on_exit 'rm -rf "$dir"'
cp -r "$SNOW_TOP/tests/node-os/fixtures/good" "$dir/root"
net=$dir/root/sys/class/net/eth9
mkdir -p "$net/device"
echo 4099 >"$net/flags"; echo 9 >"$net/ifindex"; echo 1 >"$net/carrier"
python3 - "$net/device/sff8472.eeprom" <<'PY'
import struct, sys
e = bytearray(512)
e[92] = 0x60                                  # diagnostics, internally calibrated
e[20:36] = b"ACME OPTICS     "; e[40:56] = b"SFP-10G-SR      "; e[68:84] = b"X123            "
a2 = 256
def put(off, v, signed=False): struct.pack_into(">h" if signed else ">H", e, a2 + off, v)
put(0, 75 * 256, True); put(2, -5 * 256, True); put(4, 70 * 256, True); put(6, 0, True)   # temp limits
put(96, int(80.5 * 256), True)                                      # 80.5 C: above the high alarm
put(8, 36000); put(10, 30000); put(12, 35000); put(14, 31000); put(98, 33000)   # Vcc 3.3 V
put(16, 5000); put(18, 1000); put(20, 4500); put(22, 1500); put(100, 3250)      # bias 6.5 mA
put(24, 10000); put(26, 1000); put(28, 9000); put(30, 2000); put(102, 5000)     # TX 0.5 mW
put(32, 10000); put(34, 100); put(36, 9000); put(38, 200); put(104, 2500)       # RX 0.25 mW
open(sys.argv[1], "wb").write(e)
PY
"$SNOW_BIN/snow-agent" --root "$dir/root" --dump >"$dir/dump.json" 2>"$dir/err"
check "--dump with a transceiver" test -s "$dir/dump.json"
check "its readings are gauges with units" python3 -c "
import json,sys; d=json.load(open('$dir/dump.json')); v=d['values']; s={x['name']:x for x in d['schema']}
ok = abs(v['net.eth9.xcvr.temp_c'] - 80.5) < 1e-9 and abs(v['net.eth9.xcvr.vcc_v'] - 3.3) < 1e-9 \
  and abs(v['net.eth9.xcvr.rx_power_mw'] - 0.25) < 1e-9 and s['net.eth9.xcvr.temp_c']['kind'] == 'gauge' \
  and s['net.eth9.xcvr.tx_bias_ma']['unit'] == 'mA'
sys.exit(0 if ok else print(v) or 1)"
check "the module is a device with its identity and readings" python3 -c "
import json,sys; d={x['path']:x for x in json.load(open('$dir/dump.json'))['devices']}; x=d['xcvr/eth9']
sys.exit(0 if x['class']=='transceiver' and x['run']=='online' and x['stats']['vendor']=='ACME OPTICS' and x['stats']['serial']=='X123' else print(x) or 1)"
check "the module's limits are its thresholds (high: alarm/warning; low mirrored)" python3 -c "
import json,sys; t={(x['value'],x['kind']):x for x in json.load(open('$dir/dump.json'))['thresholds']}
hi=t[('net.eth9.xcvr.temp_c','high')]; lo=t[('net.eth9.xcvr.temp_c','low')]; vl=t[('net.eth9.xcvr.vcc_v','low')]
ok = hi['rise']==75 and hi['clear']==70 and lo['rise']==-5 and lo['clear']==0 and abs(vl['rise']-3.0)<1e-9 and abs(vl['clear']-3.1)<1e-9
sys.exit(0 if ok else print(t) or 1)"
check "80.5 C is above the 75 C alarm: the high threshold is raised" python3 -c "
import json,sys; t={(x['value'],x['kind']):x for x in json.load(open('$dir/dump.json'))['thresholds']}
sys.exit(0 if t[('net.eth9.xcvr.temp_c','high')]['state']=='raised' and t[('net.eth9.xcvr.vcc_v','high')]['state']=='clear' else 1)"
check "a module without diagnostics is not a device" bash -c "
python3 -c 'import sys; b=bytearray(open(sys.argv[1],\"rb\").read()); b[92]=0; open(sys.argv[1],\"wb\").write(b)' '$net/device/sff8472.eeprom'
'$SNOW_BIN/snow-agent' --root '$dir/root' --dump | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if not any(x[\"path\"]==\"xcvr/eth9\" for x in d[\"devices\"]) and \"net.eth9.xcvr.temp_c\" not in d[\"values\"] else 1)'"

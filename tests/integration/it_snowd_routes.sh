#!/usr/bin/env bash
# The route table: every route snowd answers has a declared lowest role, this test knows it
# (so a new route without a role here fails), docs/api.md lists the same table, and every
# route is called with no credentials and as viewer, operator and admin: below its role the
# answer is 401/403, at or above it never is.  Also the regression of a role decided by a
# substring: a node or profile named "commands..." is not an operator's to change.
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/snow-it-routes.XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
pid=
"$SNOW_ASAN_BIN/snowd" --state-dir "$dir/state" --listen "127.0.0.1:$port" --boot-addr 127.0.0.1/8 \
	--dnsmasq none >"$dir/snowd.log" 2>&1 &
pid=$!
on_exit 'stop_pid $pid; [ "$_failures" -gt 0 ] && tail -30 "$dir/snowd.log"; rm -rf "$dir"'
check "snowd starts" wait_for 10 curl -sf "$url/api/v1/health"
export SNOW_URL=$url SNOW_TOKEN=$(cat "$dir/state/admin.token")
ctl() { "$SNOW_ASAN_BIN/snowctl" "$@"; }

# What each route must be: kept here by hand, apart from host/route.c, on purpose.
expected=$(cat <<'EOF'
GET /boot/first.ipxe boot
GET /boot/{mac}.ipxe boot
GET /boot/{mac}/overlay.cpio boot
GET /boot/images/{ref}/{file} boot
POST /boot/{mac}/dmesg boot
GET /boot/{mac}/rootfs/{state} boot
POST /api/v1/node/register node
POST /api/v1/node/report node
POST /api/v1/node/overlay node
POST /api/v1/node/pstore node
GET /api/v1/health public
POST /api/v1/login public
POST /api/v1/logout viewer
GET /api/v1/me viewer
GET /api/v1/stream viewer
GET /api/v1/nodes viewer
POST /api/v1/nodes admin
GET /api/v1/nodes/{node} viewer
PATCH /api/v1/nodes/{node} admin
DELETE /api/v1/nodes/{node} admin
POST /api/v1/nodes/{node}/rekey admin
GET /api/v1/nodes/{node}/commands viewer
POST /api/v1/nodes/{node}/commands operator
GET /api/v1/nodes/{node}/history viewer
GET /api/v1/nodes/{node}/console viewer
GET /api/v1/nodes/{node}/boots viewer
GET /api/v1/nodes/{node}/boots/{boot}/kernel-log viewer
GET /api/v1/nodes/{node}/boots/{boot}/pstore viewer
POST /api/v1/commands operator
GET /api/v1/commands/{id} viewer
GET /api/v1/events viewer
GET /api/v1/discovered viewer
GET /api/v1/images viewer
POST /api/v1/images admin
DELETE /api/v1/images/{ref} admin
GET /api/v1/profiles viewer
POST /api/v1/profiles admin
GET /api/v1/profiles/{profile} viewer
PUT /api/v1/profiles/{profile} admin
DELETE /api/v1/profiles/{profile} admin
GET /api/v1/users admin
POST /api/v1/users admin
DELETE /api/v1/users/{user} admin
GET /api/v1/tokens admin
POST /api/v1/tokens admin
DELETE /api/v1/tokens/{token} admin
GET /metrics viewer
GET /* public
EOF
)
table=$("$SNOW_ASAN_BIN/snowd" --routes)
got=$(sed -E 's/^\| `([A-Z]+) ([^`]+)` \| ([a-z]+) \|.*/\1 \2 \3/' <<<"$table")
check_eq "every route has the role this test expects (a new route needs a line here)" "$expected" "$got"
docs=$(sed -n '/^<!-- routes: generated/,/^<!-- end routes -->/p' "$SNOW_TOP/docs/api.md" | grep '^| `')
check_eq "docs/api.md lists the route table snowd prints (snowd --routes)" "$table" "$docs"

declare -A tok
for r in viewer operator admin; do tok[$r]=$(ctl token create "r-$r" --role "$r"); done
check "tokens created" test -n "${tok[viewer]}" -a -n "${tok[operator]}" -a -n "${tok[admin]}"

code() { # code TOKEN METHOD PATH [BODY]
	local t=$1 m=$2 p=$3 b=${4:-}
	local args=(-s -o /dev/null -w '%{http_code}' -X "$m" --max-time 5)
	[ -n "$t" ] && args+=(-H "Authorization: Bearer $t")
	[ -n "$b" ] && args+=(-H 'Content-Type: application/json' -d "$b")
	curl "${args[@]}" "$url$p"
}
level() { case $1 in none) echo 0 ;; viewer) echo 1 ;; operator) echo 2 ;; admin) echo 3 ;; esac; }
# Every route, every role.  Names that do not exist: an allowed caller gets 404/400, never
# 401/403, and nothing is changed.
while read -r method pattern access; do
	path=$(sed -e 's/{node}/nosuch/; s/{profile}/nosuch/; s/{user}/nosuch/; s/{token}/nosuch/' \
		-e 's/{id}/999999/; s/{mac}/52-54-00-00-00-99/; s/{ref}/default/; s/{file}/vmlinuz/; s/{state}/failed/' \
		-e 's|/\*$|/index.html|' <<<"$pattern")
	body=
	[ "$method" != GET ] && [ "$method" != DELETE ] && body='{}'
	wrong=""
	for who in none viewer operator admin; do
		t=; [ "$who" != none ] && t=${tok[$who]}
		c=$(code "$t" "$method" "$path" "$body")
		case $access in
		public | boot) want=allowed ;;
		node) want=401 ;;
		*) if [ "$(level "$who")" -ge "$(level "$access")" ]; then want=allowed
		   elif [ "$who" = none ]; then want=401; else want=403; fi ;;
		esac
		if [ "$want" = allowed ]; then
			case $c in 401 | 403 | 000) wrong="$wrong $who:$c" ;; esac
		elif [ "$c" != "$want" ]; then
			wrong="$wrong $who:$c(want $want)"
		fi
	done
	check_eq "$method $pattern ($access): none/viewer/operator/admin" "" "$wrong"
done <<<"$expected"

# A method a path does not take: 405, naming those it does.
check_eq "PUT on /api/v1/nodes: 405" 405 "$(code "${tok[admin]}" PUT /api/v1/nodes '{}')"
check_eq "no such route under /api/v1: 404" 404 "$(code "${tok[admin]}" GET /api/v1/nodes/a/b/c)"

# The substring hole: an operator could change any node or profile whose name starts with
# "commands" (the old router took any non-GET path containing "/commands" as a command).
check "a node named commands1" ctl node add commands1 --mac 52:54:00:ab:00:31
check "a profile named commandsp" test "$(code "${tok[admin]}" POST /api/v1/profiles '{"name":"commandsp","settings":{}}')" = 201
check_eq "operator PATCH /api/v1/nodes/commands1: 403" 403 "$(code "${tok[operator]}" PATCH /api/v1/nodes/commands1 '{"settings":{"console_log":"/etc/shadow"}}')"
check_eq "operator DELETE /api/v1/nodes/commands1: 403" 403 "$(code "${tok[operator]}" DELETE /api/v1/nodes/commands1)"
check_eq "operator PUT /api/v1/profiles/commandsp: 403" 403 "$(code "${tok[operator]}" PUT /api/v1/profiles/commandsp '{"settings":{}}')"
check_eq "operator DELETE /api/v1/profiles/commandsp: 403" 403 "$(code "${tok[operator]}" DELETE /api/v1/profiles/commandsp)"
check "commands1 unchanged: no console_log" bash -c "! curl -s -H 'Authorization: Bearer ${tok[admin]}' '$url/api/v1/nodes/commands1' | grep -q console_log"
check_eq "the operator's own route still works: POST .../commands1/commands" 202 "$(code "${tok[operator]}" POST /api/v1/nodes/commands1/commands '{"op":"watermarks.reset"}')"
check_sanitizer "$dir/snowd.log"

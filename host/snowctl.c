/*
 * snowctl: the command-line client of snowd's REST API.
 *   snowctl node ...  (snowctl_node.c: add, list, show, set, rm, rekey, log)
 *   snowctl discovered list [--json]
 *   snowctl threshold set NODE VALUE --high|--low --rise X --clear Y [--samples N]
 *   snowctl threshold clear NODE VALUE --high|--low
 *   snowctl device NODE PATH enable|disable|online|offline|shutdown|diag|audit
 *   snowctl node reboot|poweroff NODE;  snowctl config reload NODE
 *   snowctl watermarks reset NODE [VALUE];  snowctl sysctl set NODE NAME VALUE
 *   snowctl command show ID;  snowctl command list NODE
 *   snowctl events [--node NODE] [--limit N] [--json]
 * Commands wait for the node's result (--no-wait to only queue them).
 * The URL and token come from --url/--token, else SNOW_URL/SNOW_TOKEN,
 * else http://127.0.0.1:8080 and the token file of a local snowd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpc.h"
#include "jsonh.h"
#include "log.h"
#include "snowctl.h"

static void ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: snowctl [--url URL] [--token TOKEN] COMMAND\n"
		"\n"
		"  node add NAME --mac MAC [--ip IP] [--image I] [--profile P]   add a node\n"
		"  discovered adopt MAC NAME [--profile P]             a discovered MAC becomes a node\n"
		"  node list [--json]                                  list nodes and their state\n"
		"  node show NAME [--json]                             one node in full\n"
		"  node rm NAME                                        remove a node\n"
		"  node rekey NAME                                     give a node a new secret\n"
		"  node log NAME [--boot ID [--pstore]]               a boot's kernel log (default: current), its pstore dump\n"
		"  node console NAME                                   the end of its serial console (console_log, or IPMI SOL)\n"
		"  discovered list [--json]                            MACs that asked to boot\n"
		"  threshold set NODE VALUE --high|--low --rise X --clear Y [--samples N]\n"
		"  threshold clear NODE VALUE --high|--low\n"
		"  device NODE PATH OP          OP: enable disable online offline shutdown diag audit\n"
		"  node reboot|poweroff NODE    config reload NODE\n"
		"  node power NODE on|off|cycle|status   (by the node's power driver)\n"
		"  watermarks reset NODE [VALUE]\n"
		"  sysctl get NODE NAME         sysctl set NODE NAME VALUE\n"
		"  command show ID              command list NODE\n"
		"  events [--node NODE] [--limit N] [--json]\n"
		"  node set NAME [KEY=VALUE...] [--profile P|--no-profile] [--reboot]\n"
		"  profile add NAME [KEY=VALUE...] | profile set NAME KEY=VALUE... | profile list\n"
		"  profile show NAME | profile rm NAME\n"
		"      KEY: image cmdline env.NAME interval_ms thresholds power groups; VALUE is\n"
		"      JSON when it parses as JSON, else text; KEY= (empty) unsets it\n"
		"  image add NAME --kernel PATH --initrd PATH [--rootfs PATH]   (files on snowd's host;\n"
		"      --rootfs: a whole-system image's rootfs.squashfs, see docs/images.md)\n"
		"  image list\n"
		"  image rm NAME[@VERSION]   (refused while a node or profile uses it)\n"
		"  user add NAME --role viewer|operator|admin   (password: first line of stdin)\n"
		"  user list | user rm NAME\n"
		"  token create NAME --role viewer|operator|admin | token list | token rm NAME\n"
		"\n"
		"Commands to nodes wait up to --timeout S (default 60) for the node's result;\n"
		"--no-wait only queues them.  NODE may be a name, a list (a,b,c), @GROUP or all:\n"
		"the command goes to every one at once.\n"
		"\n"
		"URL and token default to $SNOW_URL and $SNOW_TOKEN (or $SNOW_TOKEN_FILE,\n"
		"then /var/lib/snow/admin.token), and http://127.0.0.1:8080.\n");
}

int ctl_call(struct ctl *c, const char *method, const char *path, json_t *body,
		    json_t **out)
{
	char auth[200], err[512], *text = NULL;
	struct http_response resp;
	const struct http_header h[] = { { "Authorization", auth },
					 { "Content-Type", "application/json" } };
	json_t *reply = NULL;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", c->token);
	c->status = 0;
	if (body)
		text = jsonh_dump(body);
	rc = http_request(&c->url, method, path, h, 2, text, text ? strlen(text) : 0, 30000, &resp,
			  err, sizeof(err));
	free(text);
	if (rc) {
		fprintf(stderr, "snowctl: %s (is snowd running? check --url or SNOW_URL)\n", err);
		http_response_free(&resp);
		return 1;
	}
	c->status = (int)resp.status;
	if (resp.body.len)
		reply = jsonh_parse_object(resp.body.data, resp.body.len, err, sizeof(err));
	if (resp.status < 200 || resp.status > 299) {
		const char *msg = reply ? json_string_value(json_object_get(reply, "error")) : NULL;
		fprintf(stderr, "snowctl: %s\n", msg ? msg : resp.body.len ? resp.body.data : "error");
		if (resp.status == 401)
			fprintf(stderr, "snowctl: set SNOW_TOKEN (or --token) to an API token\n");
		json_decref(reply);
		http_response_free(&resp);
		return 1;
	}
	http_response_free(&resp);
	if (!reply) {
		fprintf(stderr, "snowctl: snowd answered something that is not JSON\n");
		return 1;
	}
	if (out)
		*out = reply;
	else
		json_decref(reply);
	return 0;
}

void ctl_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s)
		puts(s);
	free(s);
}

const char *ctl_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

void ctl_ago(json_t *o, const char *k, char *out, size_t cap)
{
	json_int_t t = json_integer_value(json_object_get(o, k));
	long d = (long)(time(NULL) - t);

	if (!t)
		snprintf(out, cap, "never");
	else if (d < 120)
		snprintf(out, cap, "%lds ago", d < 0 ? 0 : d);
	else if (d < 7200)
		snprintf(out, cap, "%ldm ago", d / 60);
	else
		snprintf(out, cap, "%ldh ago", d / 3600);
}

static int ctl_discovered(struct ctl *c)
{
	json_t *r, *arr, *d;
	size_t i;

	if (ctl_call(c, "GET", "/api/v1/discovered", NULL, &r))
		return 1;
	arr = json_object_get(r, "discovered");
	if (c->json) {
		ctl_print_json(arr);
	} else {
		printf("%-17s %-15s %-10s %s\n", "MAC", "IP", "SEEN", "REQUESTS");
		json_array_foreach(arr, i, d) {
			char seen[32];
			ctl_ago(d, "last_seen", seen, sizeof(seen));
			printf("%-17s %-15s %-10s %lld\n", ctl_str(d, "mac"), ctl_str(d, "ip"), seen,
			       (long long)json_integer_value(json_object_get(d, "count")));
		}
	}
	json_decref(r);
	return 0;
}

static void ctl_print_command(const struct ctl *c, json_t *cmd)
{
	json_t *res = json_object_get(cmd, "result");
	const char *state = ctl_str(cmd, "state");
	char *rs = res ? json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	if (c->json) {
		ctl_print_json(cmd);
	} else {
		printf("command %lld (%s on %s): %s", (long long)json_integer_value(json_object_get(cmd, "id")),
		       ctl_str(cmd, "op"), ctl_str(cmd, "node"), state);
		if (json_object_get(cmd, "error"))
			printf(": %s", ctl_str(cmd, "error"));
		else if (rs)
			printf(": %s", rs);
		printf("\n");
	}
	free(rs);
}

/*
 * Queue op (args: a reference this call takes) for node, then wait for its
 * result.  @ret 0 when done, 1 when failed, refused or timed out.
 */
/*
 * The nodes a command goes to: "NAME", "a,b,c", "@GROUP" (nodes whose
 * effective groups hold it) or "all".  @ret a new array of names, or NULL
 * after a message.
 */
static json_t *ctl_targets(struct ctl *c, const char *spec)
{
	json_t *names = json_array(), *r, *n;
	size_t i;

	if (strcmp(spec, "all") && spec[0] != '@') {
		char *copy = strdup(spec), *tok, *save = NULL;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(names, json_string(tok));
		free(copy);
		return names;
	}
	if (ctl_call(c, "GET", "/api/v1/nodes", NULL, &r)) {
		json_decref(names);
		return NULL;
	}
	json_array_foreach(json_object_get(r, "nodes"), i, n) {
		json_t *g;
		size_t k;
		int match = !strcmp(spec, "all");
		json_array_foreach(json_object_get(n, "groups"), k, g)
			if (spec[0] == '@' && !strcmp(json_string_value(g), spec + 1))
				match = 1;
		if (match)
			json_array_append(names, json_object_get(n, "name"));
	}
	json_decref(r);
	if (!json_array_size(names)) {
		fprintf(stderr, "snowctl: %s: no node matches\n", spec);
		json_decref(names);
		return NULL;
	}
	return names;
}

/*
 * Queue op (args: a reference this call takes) for the nodes of spec, then
 * wait for every result together: a command to many nodes runs on all of them
 * at once.  @ret 0 when all are done, 1 when any failed, was refused or timed out.
 */
int ctl_command(struct ctl *c, const char *spec, const char *op, json_t *args)
{
	json_t *targets = ctl_targets(c, spec), *ids = json_array(), *name, *cmd;
	json_t *body = json_pack("{s:s, s:o}", "op", op, "args", args ? args : json_object());
	size_t i, open;
	char path[300];
	int bad = 0, round;

	if (!targets) {
		json_decref(body);
		json_decref(ids);
		return 1;
	}
	if (json_array_size(targets) > 1 && strncmp(op, "power.", 6)) {
		/* One request for all (a snowd before 0.4 has no such route: one each then). */
		json_object_set(body, "nodes", targets);
		if (!ctl_call(c, "POST", "/api/v1/commands", body, &cmd)) {
			json_array_foreach(json_object_get(cmd, "commands"), i, name) {
				if (c->no_wait)
					ctl_print_command(c, name);
				json_array_append(ids, json_object_get(name, "id"));
			}
			json_decref(cmd);
			json_array_clear(targets);
		} else if (c->status != 404) {
			bad = 1;
			json_array_clear(targets);
		}
		json_object_del(body, "nodes");
	}
	json_array_foreach(targets, i, name) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/commands", json_string_value(name));
		if (ctl_call(c, "POST", path, body, &cmd)) {
			bad = 1;
			continue;
		}
		if (c->no_wait)
			ctl_print_command(c, cmd);
		json_array_append(ids, json_object_get(cmd, "id"));
		json_decref(cmd);
	}
	json_decref(body);
	json_decref(targets);
	if (c->no_wait) {
		json_decref(ids);
		return bad;
	}
	for (round = 0, open = json_array_size(ids); open && round < c->timeout_s * 5; round++) {
		json_t *id;
		if (round) {
			struct timespec ts = { 0, 200 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		json_array_foreach(ids, i, id) {
			const char *state;
			if (json_is_null(id))
				continue;
			snprintf(path, sizeof(path), "/api/v1/commands/%lld",
				 (long long)json_integer_value(id));
			if (ctl_call(c, "GET", path, NULL, &cmd)) {
				json_decref(ids);
				return 1;
			}
			state = ctl_str(cmd, "state");
			if (strcmp(state, "queued") && strcmp(state, "sent")) {
				ctl_print_command(c, cmd);
				bad |= strcmp(state, "done") != 0;
				json_array_set_new(ids, i, json_null());
				open--;
			}
			json_decref(cmd);
		}
	}
	if (open) {
		json_t *id;
		json_array_foreach(ids, i, id)
			if (!json_is_null(id))
				fprintf(stderr, "snowctl: command %lld: no result after %d s (it stays "
						"queued; 'snowctl command show %lld')\n",
					(long long)json_integer_value(id), c->timeout_s,
					(long long)json_integer_value(id));
		bad = 1;
	}
	json_decref(ids);
	return bad;
}

/* Parse a number argument for field.  @ret 0 or 2 after a message. */
static int ctl_number(const char *field, const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	if (!*s || *end) {
		fprintf(stderr, "snowctl: %s: '%s' is not a number\n", field, s);
		return 2;
	}
	return 0;
}

static int ctl_threshold(struct ctl *c, int argc, char **argv)
{
	const char *kind = NULL, *rise = NULL, *clear = NULL, *samples = NULL;
	const char *pos[3] = { NULL, NULL, NULL };
	double r, cl, sm;
	int i, npos = 0, set;
	json_t *args;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--high") || !strcmp(argv[i], "--low"))
			kind = argv[i] + 2;
		else if ((!strcmp(argv[i], "--rise") || !strcmp(argv[i], "--clear") ||
			  !strcmp(argv[i], "--samples")) && i + 1 < argc) {
			const char **dst = argv[i][2] == 'r' ? &rise : argv[i][2] == 'c' ? &clear : &samples;
			*dst = argv[++i];
		} else if (argv[i][0] != '-' && npos < 3)
			pos[npos++] = argv[i];
		else {
			fprintf(stderr, "snowctl: threshold: unexpected '%s'\n", argv[i]);
			return 2;
		}
	}
	set = pos[0] && !strcmp(pos[0], "set");
	if (npos != 3 || !kind || (set && (!rise || !clear)) || (!set && strcmp(pos[0], "clear"))) {
		fprintf(stderr, "snowctl: usage: threshold set NODE VALUE --high|--low --rise X --clear Y "
				"[--samples N]\n       snowctl threshold clear NODE VALUE --high|--low\n");
		return 2;
	}
	args = json_pack("{s:s, s:s}", "value", pos[2], "kind", kind);
	if (set) {
		if (ctl_number("rise", rise, &r) || ctl_number("clear", clear, &cl) ||
		    (samples && ctl_number("samples", samples, &sm))) {
			json_decref(args);
			return 2;
		}
		json_object_set_new(args, "rise", json_real(r));
		json_object_set_new(args, "clear", json_real(cl));
		if (samples)
			json_object_set_new(args, "samples", json_integer((json_int_t)sm));
	}
	return ctl_command(c, pos[1], set ? "threshold.set" : "threshold.clear", args);
}

static int ctl_events(struct ctl *c, int argc, char **argv)
{
	const char *node = NULL, *limit = "50";
	char path[300];
	json_t *r, *arr, *e;
	size_t i;

	for (int j = 0; j < argc; j++) {
		if (!strcmp(argv[j], "--node") && j + 1 < argc)
			node = argv[++j];
		else if (!strcmp(argv[j], "--limit") && j + 1 < argc)
			limit = argv[++j];
		else {
			fprintf(stderr, "snowctl: events: unexpected '%s'\n", argv[j]);
			return 2;
		}
	}
	snprintf(path, sizeof(path), "/api/v1/events?limit=%s%s%s", limit, node ? "&node=" : "",
		 node ? node : "");
	if (ctl_call(c, "GET", path, NULL, &r))
		return 1;
	arr = json_object_get(r, "events");
	if (c->json) {
		ctl_print_json(arr);
	} else {
		printf("%-19s %-12s %5s %-18s %s\n", "TIME", "NODE", "SEQ", "TYPE", "ATTRIBUTES");
		/* Oldest first reads like a log. */
		for (i = json_array_size(arr); i-- > 0;) {
			char when[32], *attrs;
			time_t t;
			struct tm tm;
			e = json_array_get(arr, i);
			t = (time_t)json_integer_value(json_object_get(e, "time"));
			localtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			attrs = json_dumps(json_object_get(e, "attrs"), JSON_COMPACT | JSON_SORT_KEYS);
			printf("%-19s %-12s %5lld %-18s %s\n", when, ctl_str(e, "node"),
			       (long long)json_integer_value(json_object_get(e, "seq")),
			       ctl_str(e, "type"), attrs ? attrs : "");
			free(attrs);
		}
	}
	json_decref(r);
	return 0;
}

/* user add/list/rm and token create/list/rm: admin only. */
static int ctl_users_tokens(struct ctl *c, int argc, char **argv)
{
	int users = !strcmp(argv[0], "user");
	const char *base = users ? "/api/v1/users" : "/api/v1/tokens";
	char path[300], line[600];
	json_t *r, *x;
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		if (ctl_call(c, "GET", base, NULL, &r))
			return 1;
		x = json_object_get(r, users ? "users" : "tokens");
		if (c->json) {
			ctl_print_json(x);
		} else {
			json_t *u;
			printf("%-20s %s\n", "NAME", "ROLE");
			json_array_foreach(x, i, u)
				printf("%-20s %s\n", ctl_str(u, "name"), ctl_str(u, "role"));
		}
		json_decref(r);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "rm")) {
		snprintf(path, sizeof(path), "%s/%s", base, argv[2]);
		if (ctl_call(c, "DELETE", path, NULL, NULL))
			return 1;
		printf("removed %s\n", argv[2]);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], users ? "add" : "create") && !strcmp(argv[3], "--role")) {
		json_t *body = json_pack("{s:s, s:s}", "name", argv[2], "role", argv[4]);
		int rc;
		if (users) {
			if (!fgets(line, sizeof(line), stdin)) {
				fprintf(stderr, "snowctl: user add: give the password on stdin\n");
				json_decref(body);
				return 2;
			}
			line[strcspn(line, "\r\n")] = '\0';
			json_object_set_new(body, "password", json_string(line));
			explicit_bzero(line, sizeof(line));
		}
		rc = ctl_call(c, "POST", base, body, &r);
		json_decref(body);
		if (rc)
			return 1;
		if (users)
			printf("added user %s (%s)\n", ctl_str(r, "name"), ctl_str(r, "role"));
		else
			printf("%s\n", ctl_str(r, "token"));
		json_decref(r);
		return 0;
	}
	fprintf(stderr, "snowctl: usage: %s\n", users ?
		"user add NAME --role ROLE | user list | user rm NAME" :
		"token create NAME --role ROLE | token list | token rm NAME");
	return 2;
}

/*
 * Apply KEY=VALUE arguments to settings (current ones, modified in place).
 * env.NAME=VALUE sets one variable.  @ret 0 or 2 after a message.
 */
int ctl_apply_sets(json_t *settings, int argc, char **argv, json_t *patch)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		char key[128];
		json_t *v;

		if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(key)) {
			fprintf(stderr, "snowctl: '%s' is not KEY=VALUE\n", argv[i]);
			return 2;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		v = eq[1] ? json_loads(eq + 1, JSON_DECODE_ANY, NULL) : json_null();
		if (!v)
			v = json_string(eq + 1);
		if (!strncmp(key, "env.", 4)) {
			json_t *env = json_object_get(settings, "env");
			env = json_is_object(env) ? json_deep_copy(env) : json_object();
			if (json_is_null(v))
				json_object_del(env, key + 4);
			else /* variables are text even when they look like numbers */
				json_object_set_new(env, key + 4,
						    json_is_string(v) ? json_incref(v) : json_string(eq + 1));
			json_decref(v);
			json_object_set(settings, "env", env);
			json_object_set_new(patch, "env", env);
			continue;
		}
		if (json_is_null(v))
			json_object_del(settings, key);
		else
			json_object_set(settings, key, v);
		json_object_set_new(patch, key, v);
	}
	return 0;
}

static int ctl_profile(struct ctl *c, int argc, char **argv)
{
	char path[300];
	json_t *r, *p, *settings, *patch, *body;
	size_t i;
	int rc;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		if (ctl_call(c, "GET", "/api/v1/profiles", NULL, &r))
			return 1;
		if (c->json) {
			ctl_print_json(json_object_get(r, "profiles"));
		} else {
			printf("%-16s %5s  %s\n", "NAME", "NODES", "SETTINGS");
			json_array_foreach(json_object_get(r, "profiles"), i, p) {
				char *t = json_dumps(json_object_get(p, "settings"), JSON_COMPACT | JSON_SORT_KEYS);
				printf("%-16s %5lld  %s\n", ctl_str(p, "name"),
				       (long long)json_integer_value(json_object_get(p, "nodes")), t ? t : "");
				free(t);
			}
		}
		json_decref(r);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "snowctl: usage: profile add|set|show|rm NAME [KEY=VALUE...] | profile list\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/profiles/%s", argv[1]);
	if (!strcmp(argv[0], "show") && argc == 2) {
		if (ctl_call(c, "GET", path, NULL, &r))
			return 1;
		ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	if (!strcmp(argv[0], "rm") && argc == 2) {
		if (ctl_call(c, "DELETE", path, NULL, NULL))
			return 1;
		printf("removed profile %s\n", argv[1]);
		return 0;
	}
	if (strcmp(argv[0], "add") && strcmp(argv[0], "set")) {
		fprintf(stderr, "snowctl: profile: unknown '%s'\n", argv[0]);
		return 2;
	}
	settings = NULL;
	if (!strcmp(argv[0], "set")) {
		if (ctl_call(c, "GET", path, NULL, &r))
			return 1;
		settings = json_deep_copy(json_object_get(r, "settings"));
		json_decref(r);
	}
	if (!settings)
		settings = json_object();
	patch = json_object();
	rc = ctl_apply_sets(settings, argc - 2, argv + 2, patch);
	json_decref(patch);
	if (rc) {
		json_decref(settings);
		return rc;
	}
	body = json_pack("{s:s, s:o}", "name", argv[1], "settings", settings);
	if (!strcmp(argv[0], "set"))
		json_object_del(body, "name");
	rc = ctl_call(c, !strcmp(argv[0], "add") ? "POST" : "PUT",
		      !strcmp(argv[0], "add") ? "/api/v1/profiles" : path, body, &r);
	json_decref(body);
	if (rc)
		return 1;
	printf("profile %s: ", argv[1]);
	ctl_print_json(json_object_get(r, "settings"));
	json_decref(r);
	return 0;
}

static void ctl_read_token_file(struct ctl *c, const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	if (fgets(c->token, sizeof(c->token), f))
		c->token[strcspn(c->token, "\r\n")] = '\0';
	fclose(f);
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	const char *url = getenv("SNOW_URL"), *token = getenv("SNOW_TOKEN");
	char err[256];
	int i = 1, j, n;

	log_init("snowctl", LOG_LVL_WARN);
	if (httpc_tls_enable())
		fprintf(stderr, "snowctl: GnuTLS did not start: https:// URLs will fail\n");
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--version")) {
			printf("snowctl %s\n", SNOW_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			ctl_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--url") && i + 1 < argc) {
			url = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "--token") && i + 1 < argc) {
			token = argv[i + 1];
			i += 2;
		} else {
			fprintf(stderr, "snowctl: unknown option '%s'\n", argv[i]);
			ctl_usage(stderr);
			return 2;
		}
	}
	if (http_url_parse(url ? url : "http://127.0.0.1:8080", &c.url, err, sizeof(err))) {
		fprintf(stderr, "snowctl: %s\n", err);
		return 2;
	}
	if (token)
		snprintf(c.token, sizeof(c.token), "%s", token);
	else
		ctl_read_token_file(&c, getenv("SNOW_TOKEN_FILE") ? getenv("SNOW_TOKEN_FILE") :
								      "/var/lib/snow/admin.token");
	/* --json, --no-wait and --timeout may come anywhere after the command. */
	c.timeout_s = 60;
	for (j = n = i; j < argc; j++) {
		if (!strcmp(argv[j], "--json"))
			c.json = 1;
		else if (!strcmp(argv[j], "--no-wait"))
			c.no_wait = 1;
		else if (!strcmp(argv[j], "--timeout") && j + 1 < argc) {
			c.timeout_s = atoi(argv[++j]);
			if (c.timeout_s < 1 || c.timeout_s > 86400) {
				fprintf(stderr, "snowctl: --timeout: '%s' must be 1..86400 seconds\n", argv[j]);
				return 2;
			}
		} else
			argv[n++] = argv[j];
	}
	argc = n;
	if (argc - i >= 2 && !strcmp(argv[i], "node")) {
		int rc = ctl_node(&c, argc - i - 1, argv + i + 1);
		if (rc >= 0)
			return rc;
	}
	if (argc - i == 2 && !strcmp(argv[i], "discovered") && !strcmp(argv[i + 1], "list"))
		return ctl_discovered(&c);
	if ((argc - i == 4 || argc - i == 6) && !strcmp(argv[i], "discovered") &&
	    !strcmp(argv[i + 1], "adopt")) {
		/* Adopting is adding the node with the MAC that asked to boot. */
		char *add[] = { argv[i + 3], "--mac", argv[i + 2], NULL, NULL };
		if (argc - i == 6) {
			if (strcmp(argv[i + 4], "--profile")) {
				fprintf(stderr, "snowctl: usage: discovered adopt MAC NAME [--profile P]\n");
				return 2;
			}
			add[3] = "--profile";
			add[4] = argv[i + 5];
		}
		return ctl_node_add(&c, argc - i == 6 ? 5 : 3, add);
	}
	if (argc - i == 3 && !strcmp(argv[i], "node") &&
	    (!strcmp(argv[i + 1], "reboot") || !strcmp(argv[i + 1], "poweroff")))
		return ctl_command(&c, argv[i + 2], argv[i + 1], NULL);
	if (argc - i == 4 && !strcmp(argv[i], "node") && !strcmp(argv[i + 1], "power")) {
		char op[32];
		snprintf(op, sizeof(op), "power.%s", argv[i + 3]);
		return ctl_command(&c, argv[i + 2], op, NULL);
	}
	if (argc - i == 3 && !strcmp(argv[i], "config") && !strcmp(argv[i + 1], "reload"))
		return ctl_command(&c, argv[i + 2], "config.reload", NULL);
	if (argc - i >= 1 && !strcmp(argv[i], "threshold"))
		return ctl_threshold(&c, argc - i - 1, argv + i + 1);
	if (argc - i == 4 && !strcmp(argv[i], "device"))
		return ctl_command(&c, argv[i + 1], "device",
				   json_pack("{s:s, s:s}", "path", argv[i + 2], "op", argv[i + 3]));
	if ((argc - i == 3 || argc - i == 4) && !strcmp(argv[i], "watermarks") &&
	    !strcmp(argv[i + 1], "reset"))
		return ctl_command(&c, argv[i + 2], "watermarks.reset",
				   argc - i == 4 ? json_pack("{s:s}", "value", argv[i + 3]) : NULL);
	if (argc - i == 4 && !strcmp(argv[i], "sysctl") && !strcmp(argv[i + 1], "get"))
		return ctl_command(&c, argv[i + 2], "sysctl.get", json_pack("{s:s}", "name", argv[i + 3]));
	if (argc - i == 5 && !strcmp(argv[i], "sysctl") && !strcmp(argv[i + 1], "set"))
		return ctl_command(&c, argv[i + 2], "sysctl.set",
				   json_pack("{s:s, s:s}", "name", argv[i + 3], "value", argv[i + 4]));
	if (argc - i == 3 && !strcmp(argv[i], "command") && !strcmp(argv[i + 1], "show")) {
		char path[64];
		json_t *cmd;
		snprintf(path, sizeof(path), "/api/v1/commands/%.20s", argv[i + 2]);
		if (ctl_call(&c, "GET", path, NULL, &cmd))
			return 1;
		ctl_print_command(&c, cmd);
		json_decref(cmd);
		return 0;
	}
	if (argc - i == 3 && !strcmp(argv[i], "command") && !strcmp(argv[i + 1], "list")) {
		char path[300];
		json_t *r, *cmd;
		size_t k;
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/commands", argv[i + 2]);
		if (ctl_call(&c, "GET", path, NULL, &r))
			return 1;
		if (c.json)
			ctl_print_json(json_object_get(r, "commands"));
		else
			json_array_foreach(json_object_get(r, "commands"), k, cmd)
				ctl_print_command(&c, cmd);
		json_decref(r);
		return 0;
	}
	if (argc - i >= 2 && !strcmp(argv[i], "image"))
		return ctl_image(&c, argc - i - 1, argv + i + 1);
	if (argc - i >= 2 && !strcmp(argv[i], "profile"))
		return ctl_profile(&c, argc - i - 1, argv + i + 1);
	if (argc - i >= 2 && (!strcmp(argv[i], "user") || !strcmp(argv[i], "token")))
		return ctl_users_tokens(&c, argc - i, argv + i);
	if (argc - i >= 1 && !strcmp(argv[i], "events"))
		return ctl_events(&c, argc - i - 1, argv + i + 1);
	ctl_usage(stderr);
	return 2;
}

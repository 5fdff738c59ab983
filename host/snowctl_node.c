/*
 * snowctl's node commands (snowctl.h):
 *   node add NAME --mac MAC [--ip IP] [--image IMAGE] [--profile P]
 *   node list [--json];  node show NAME [--json];  node rm NAME;  node rekey NAME
 *   node set NAME [KEY=VALUE...] [--profile P|--no-profile] [--reboot]
 *   node log NAME [--boot ID] [--pstore] [--json]   the kernel log snowd kept of a boot,
 *                                        or (--pstore) the dump the node sent of it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "jsonh.h"
#include "snowctl.h"

static int ctl_node_list(struct ctl *c)
{
	json_t *r, *nodes, *n;
	size_t i;

	if (ctl_call(c, "GET", "/api/v1/nodes", NULL, &r))
		return 1;
	nodes = json_object_get(r, "nodes");
	if (c->json) {
		ctl_print_json(nodes);
		json_decref(r);
		return 0;
	}
	printf("%-16s %-8s %-17s %-15s %-10s %-16s %-10s %s\n", "NAME", "STATE", "MAC", "IP",
	       "IMAGE", "HOSTNAME", "SEEN", "LOAD");
	json_array_foreach(nodes, i, n) {
		char seen[32], load[16] = "-";
		json_t *l = json_object_get(json_object_get(n, "values"), "vm.load.avg1");
		ctl_ago(n, "last_seen", seen, sizeof(seen));
		if (l)
			snprintf(load, sizeof(load), "%.2f", json_number_value(l));
		printf("%-16s %-8s %-17s %-15s %-10s %-16s %-10s %s\n", ctl_str(n, "name"),
		       ctl_str(n, "state"), ctl_str(n, "mac"), ctl_str(n, "ip"), ctl_str(n, "image"),
		       ctl_str(n, "hostname"), seen, load);
	}
	if (!json_array_size(nodes))
		printf("(no nodes: add one with 'snowctl node add NAME --mac MAC')\n");
	json_decref(r);
	return 0;
}

static void ctl_print_settings(json_t *eff, json_t *origins)
{
	const char *k;
	json_t *v;

	json_object_foreach(eff, k, v) {
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		printf("  %-12s %-40s (%s)\n", k, t ? t : "?", ctl_str(origins, k));
		free(t);
	}
}

static int ctl_node_show(struct ctl *c, const char *name)
{
	char path[300], seen[32];
	json_t *n, *v;
	const char *k;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
	if (ctl_call(c, "GET", path, NULL, &n))
		return 1;
	if (c->json) {
		ctl_print_json(n);
		json_decref(n);
		return 0;
	}
	ctl_ago(n, "last_seen", seen, sizeof(seen));
	printf("name:      %s\nstate:     %s\nmac:       %s\nip:        %s\nimage:     %s\n"
	       "hostname:  %s\nkernel:    %s\nboot id:   %s\nstage:     %s\nlast seen: %s\n",
	       ctl_str(n, "name"), ctl_str(n, "state"), ctl_str(n, "mac"), ctl_str(n, "ip"),
	       ctl_str(n, "image"), ctl_str(n, "hostname"), ctl_str(n, "kernel"),
	       ctl_str(n, "boot_id"), ctl_str(n, "stage"), seen);
	printf("profile:   %s\nsettings (where each comes from):\n",
	       json_is_string(json_object_get(n, "profile")) ? ctl_str(n, "profile") : "(none)");
	ctl_print_settings(json_object_get(n, "effective"), json_object_get(n, "origins"));
	if (json_object_size(json_object_get(n, "values")))
		printf("values:\n");
	json_object_foreach(json_object_get(n, "values"), k, v)
		printf("  %-28s %g\n", k, json_number_value(v));
	{
		json_t *d;
		size_t i;
		if (json_array_size(json_object_get(n, "devices")))
			printf("devices:\n");
		json_array_foreach(json_object_get(n, "devices"), i, d)
			printf("  %-24s %-8s %-9s %s\n", ctl_str(d, "path"), ctl_str(d, "class"),
			       ctl_str(d, "avail"), ctl_str(d, "run"));
		if (json_array_size(json_object_get(n, "thresholds")))
			printf("thresholds:\n");
		json_array_foreach(json_object_get(n, "thresholds"), i, d)
			printf("  %-28s %-4s rise %g clear %g: %s\n", ctl_str(d, "value"), ctl_str(d, "kind"),
			       json_number_value(json_object_get(d, "rise")),
			       json_number_value(json_object_get(d, "clear")), ctl_str(d, "state"));
	}
	json_decref(n);
	return 0;
}

int ctl_node_add(struct ctl *c, int argc, char **argv)
{
	const char *name = NULL, *mac = NULL, *ip = NULL, *image = NULL, *profile = NULL;
	json_t *body, *r;
	int i, rc;

	for (i = 0; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--mac") ? &mac :
				   !strcmp(argv[i], "--ip") ? &ip :
				   !strcmp(argv[i], "--image") ? &image :
				   !strcmp(argv[i], "--profile") ? &profile : NULL;
		if (dst) {
			if (i + 1 >= argc) {
				fprintf(stderr, "snowctl: %s needs a value\n", argv[i]);
				return 2;
			}
			*dst = argv[++i];
		} else if (argv[i][0] == '-' || name) {
			fprintf(stderr, "snowctl: node add: unexpected '%s'\n", argv[i]);
			return 2;
		} else {
			name = argv[i];
		}
	}
	if (!name || !mac) {
		fprintf(stderr, "snowctl: usage: node add NAME --mac MAC [--ip IP] [--image IMAGE] "
				"[--profile P]\n");
		return 2;
	}
	body = json_pack("{s:s, s:s}", "name", name, "mac", mac);
	if (ip)
		json_object_set_new(body, "ip", json_string(ip));
	if (image)
		json_object_set_new(body, "image", json_string(image));
	if (profile)
		json_object_set_new(body, "profile", json_string(profile));
	rc = ctl_call(c, "POST", "/api/v1/nodes", body, &r);
	json_decref(body);
	if (rc)
		return rc;
	printf("added %s (%s, %s, image %s)\n", ctl_str(r, "name"), ctl_str(r, "mac"),
	       ctl_str(r, "ip"), ctl_str(r, "image"));
	json_decref(r);
	return 0;
}

static int ctl_node_set(struct ctl *c, int argc, char **argv)
{
	json_t *node, *body, *patch, *own, *r;
	char path[300];
	int reboot = 0, rc, n = 0;
	const char *profile = NULL;
	int no_profile = 0;

	if (argc < 1) {
		fprintf(stderr, "snowctl: usage: node set NAME [KEY=VALUE...] [--profile P|--no-profile] [--reboot]\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reboot"))
			reboot = 1;
		else if (!strcmp(argv[i], "--no-profile"))
			no_profile = 1;
		else if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			profile = argv[++i];
		else
			argv[1 + n++] = argv[i];
	}
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", argv[0]);
	if (ctl_call(c, "GET", path, NULL, &node))
		return 1;
	own = json_deep_copy(json_object_get(node, "settings"));
	if (!own)
		own = json_object();
	patch = json_object();
	rc = ctl_apply_sets(own, n, argv + 1, patch);
	json_decref(own);
	json_decref(node);
	if (rc) {
		json_decref(patch);
		return rc;
	}
	body = json_pack("{s:o, s:b}", "settings", patch, "reboot", reboot);
	if (profile)
		json_object_set_new(body, "profile", json_string(profile));
	else if (no_profile)
		json_object_set_new(body, "profile", json_null());
	rc = ctl_call(c, "PATCH", path, body, &r);
	json_decref(body);
	if (rc)
		return 1;
	printf("%s reconfigured; effective settings (applied at its next boot):\n", argv[0]);
	ctl_print_settings(json_object_get(r, "effective"), json_object_get(r, "origins"));
	if (json_object_get(r, "reboot_command"))
		printf("reboot queued as command %lld\n",
		       (long long)json_integer_value(json_object_get(r, "reboot_command")));
	json_decref(r);
	return 0;
}

/* Print a pstore dump (GET .../pstore, borrowed): each record, text as is. */
static void ctl_print_pstore(json_t *r)
{
	json_t *rec;
	size_t i;

	printf("pstore dump of boot %s (sent by boot %s)\n",
	       json_string_value(json_object_get(r, "boot_id")) ?: "?",
	       json_string_value(json_object_get(r, "sent_by_boot")) ?: "?");
	json_array_foreach(json_object_get(r, "records"), i, rec) {
		const char *t = json_string_value(json_object_get(rec, "text"));
		printf("--- %s (%lld bytes)\n", json_string_value(json_object_get(rec, "name")) ?: "?",
		       (long long)json_integer_value(json_object_get(rec, "bytes")));
		if (!t) {
			printf("(%s: --json shows it as base64)\n",
			       json_string_value(json_object_get(rec, "note")) ?: "not text");
			continue;
		}
		fputs(t, stdout);
		if (*t && t[strlen(t) - 1] != '\n')
			putchar('\n');
	}
}

/*
 * node log NAME [--boot ID] [--pstore]: the kernel's messages of one boot
 * (netconsole), as snowd kept them; --pstore: the dump the node sent of that
 * boot after it crashed (docs/crash.md).
 */
static int ctl_node_log(struct ctl *c, int argc, char **argv)
{
	const char *boot = "current";
	int i, pstore = 0;
	char path[400];
	json_t *r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--boot") && i + 1 < argc)
			boot = argv[++i];
		else if (!strcmp(argv[i], "--pstore"))
			pstore = 1;
		else
			break;
	}
	if (i != argc || (pstore && !strcmp(boot, "current"))) {
		fprintf(stderr, "snowctl: usage: node log NAME [--boot ID] (--pstore needs --boot)\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/nodes/%.64s/boots/%.64s/%s", argv[0], boot,
		 pstore ? "pstore" : "kernel-log");
	if (ctl_call(c, "GET", path, NULL, &r))
		return 1;
	if (c->json) {
		ctl_print_json(r);
	} else if (pstore) {
		ctl_print_pstore(r);
	} else {
		const char *t = json_string_value(json_object_get(r, "log"));
		if (json_is_true(json_object_get(r, "truncated")))
			printf("(older lines of this boot were rotated out)\n");
		fputs(t ? t : "", stdout);
		if (t && *t && t[strlen(t) - 1] != '\n')
			putchar('\n');
	}
	json_decref(r);
	return 0;
}

/*
 * node console NAME: the end (64 KiB) of the node's serial console as snowd
 * keeps it: the file of its console_log setting, or the serial-over-LAN log
 * of its IPMI BMC (docs/power.md).  The answer is text, not JSON.
 */
static int ctl_node_console(struct ctl *c, const char *name)
{
	char auth[200], err[512], path[300];
	const struct http_header h[] = { { "Authorization", auth } };
	struct http_response resp;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", c->token);
	snprintf(path, sizeof(path), "/api/v1/nodes/%.200s/console", name);
	rc = http_request(&c->url, "GET", path, h, 1, NULL, 0, 30000, &resp, err, sizeof(err));
	explicit_bzero(auth, sizeof(auth));
	if (rc) {
		fprintf(stderr, "snowctl: %s (is snowd running? check --url or SNOW_URL)\n", err);
		http_response_free(&resp);
		return 1;
	}
	if (resp.status != 200) {
		json_t *e = jsonh_parse_object(resp.body.data ? resp.body.data : "", resp.body.len, err,
					       sizeof(err));
		const char *m = json_string_value(json_object_get(e, "error"));
		fprintf(stderr, "snowctl: %s\n", m ? m : "no console");
		json_decref(e);
		http_response_free(&resp);
		return 1;
	}
	fwrite(resp.body.data ? resp.body.data : "", 1, resp.body.len, stdout);
	http_response_free(&resp);
	return 0;
}

int ctl_node(struct ctl *c, int argc, char **argv)
{
	const char *verb = argv[0];
	char path[300];

	if (!strcmp(verb, "list") && argc == 1)
		return ctl_node_list(c);
	if (!strcmp(verb, "add"))
		return ctl_node_add(c, argc - 1, argv + 1);
	if (!strcmp(verb, "show") && argc == 2)
		return ctl_node_show(c, argv[1]);
	if (!strcmp(verb, "set"))
		return ctl_node_set(c, argc - 1, argv + 1);
	if (!strcmp(verb, "log") && argc >= 2)
		return ctl_node_log(c, argc - 1, argv + 1);
	if (!strcmp(verb, "console") && argc == 2)
		return ctl_node_console(c, argv[1]);
	if (!strcmp(verb, "rekey") && argc == 2) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/rekey", argv[1]);
		if (ctl_call(c, "POST", path, NULL, NULL))
			return 1;
		printf("rekeyed %s: its agent gets the new secret with its next answer, "
		       "or its next boot does\n", argv[1]);
		return 0;
	}
	if (!strcmp(verb, "rm") && argc == 2) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", argv[1]);
		if (ctl_call(c, "DELETE", path, NULL, NULL))
			return 1;
		printf("removed %s\n", argv[1]);
		return 0;
	}
	return -1;
}

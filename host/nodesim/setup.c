/* Which nodes snow-nodesim simulates: see setup.h. */
#include "setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpc.h"
#include "jsonh.h"
#include "valid.h"

/* A locally administered unicast MAC (02:...) from the prefix and the index. */
static void ns_mac(const char *prefix, unsigned idx, char out[SNOW_MAC_STRLEN + 1])
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, SNOW_MAC_STRLEN + 1, "02:%02x:%02x:%02x:%02x:%02x", (h >> 8) & 0xff,
		 h & 0xff, (idx >> 16) & 0xff, (idx >> 8) & 0xff, idx & 0xff);
}

/*
 * The nodes snowd has (GET /api/v1/nodes) as {name: {mac, ip}} for names
 * with the prefix.  @ret a new reference or NULL with err filled.
 */
static json_t *ns_list(struct nodesim *ns, char *err, size_t errlen)
{
	char auth[600];
	const struct http_header h[] = { { "Authorization", auth } };
	struct http_response resp = { 0 };
	json_t *body = NULL, *arr, *e, *out = NULL;
	size_t i;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", ns->conf.token);
	rc = http_request(&ns->url, "GET", "/api/v1/nodes", h, 1, NULL, 0, 60000, &resp, err,
			  errlen);
	explicit_bzero(auth, sizeof(auth));
	if (rc)
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "GET /api/v1/nodes: snowd answered %d: %.200s", resp.status,
			 resp.body.data ? resp.body.data : "");
		goto out;
	}
	body = jsonh_parse_object(resp.body.data, resp.body.len, err, errlen);
	arr = json_object_get(body, "nodes");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "GET /api/v1/nodes: no 'nodes' array in the answer");
		goto out;
	}
	out = json_object();
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!name || strncmp(name, ns->conf.prefix, strlen(ns->conf.prefix)))
			continue;
		json_object_set(out, name, e);
	}
out:
	json_decref(body);
	http_response_free(&resp);
	return out;
}

/* Fill n from a listed node e (borrowed).  @ret 0 or -EINVAL. */
static int ns_node_from_list(struct ns_node *n, const char *name, json_t *e, char *err,
			     size_t errlen)
{
	const char *mac = json_string_value(json_object_get(e, "mac"));
	const char *ip = json_string_value(json_object_get(e, "ip"));
	char m[SNOW_MAC_STRLEN + 1];
	uint32_t a;

	if (!mac || !ip || valid_mac(mac, m, err, errlen) || valid_ipv4(ip, &a, err, errlen)) {
		snprintf(err, errlen, "%s: listed without a valid mac and ip", name);
		return -EINVAL;
	}
	snprintf(n->sim.mac, sizeof(n->sim.mac), "%s", m);
	n->ip.s_addr = htonl(a);
	snprintf(n->ip_s, sizeof(n->ip_s), "%s", ip);
	return 0;
}

static int ns_cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ns_setup_nodes(struct nodesim *ns, char *err, size_t errlen)
{
	json_t *listed = ns_list(ns, err, errlen), *e;
	const char **names = NULL, *name;
	size_t i, n = 0;
	int rc = -EINVAL;

	if (!listed)
		return -EIO;
	if (ns->conf.add) {
		n = (size_t)ns->conf.count;
	} else {
		/* Every listed node with the prefix, by name, up to --count. */
		names = calloc(json_object_size(listed) + 1, sizeof(*names));
		if (!names)
			goto out;
		json_object_foreach(listed, name, e)
			names[n++] = name;
		qsort(names, n, sizeof(*names), ns_cmp_name);
		if (ns->conf.count && (size_t)ns->conf.count < n)
			n = (size_t)ns->conf.count;
		if (!n) {
			snprintf(err, errlen, "prefix: snowd has no node named %s* (use --add to "
					      "create them)", ns->conf.prefix);
			goto out;
		}
	}
	ns->nodes = calloc(n, sizeof(*ns->nodes));
	ns->heap = calloc(n, sizeof(*ns->heap));
	ns->fifo = calloc(n, sizeof(*ns->fifo));
	if (!ns->nodes || !ns->heap || !ns->fifo) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct ns_node *nd = &ns->nodes[i];
		char nm[SNOW_NAME_MAX + 1], mac[SNOW_MAC_STRLEN + 1];

		if (ns->conf.add)
			snprintf(nm, sizeof(nm), "%s%04zu", ns->conf.prefix, i + 1);
		else
			snprintf(nm, sizeof(nm), "%s", names[i]);
		ns_mac(ns->conf.prefix, (unsigned)(i + 1), mac);
		ns->nnodes = i + 1;
		nd->heap_idx = SIZE_MAX;
		nd->keep_fd = -1;
		if (sim_node_init(&nd->sim, nm, mac, (uint64_t)ns->conf.seed * 1000003u + i)) {
			rc = -ENOMEM;
			goto out;
		}
		if (sim_boot(&nd->sim, (int64_t)time(NULL))) {
			rc = -ENOMEM;
			goto out;
		}
		if (ns->conf.events_rate && sim_spike_setup(&nd->sim)) {
			snprintf(err, errlen, "events-rate: no value %s to cross", SIM_SPIKE_VALUE);
			goto out;
		}
		nd->interval_ms = ns->conf.interval_ms;
		e = json_object_get(listed, nm);
		if (e) {
			if (ns_node_from_list(nd, nm, e, err, errlen))
				goto out;
			nd->state = NS_SCRIPT;
		} else {
			nd->state = NS_ADD;
		}
	}
	rc = 0;
out:
	free(names);
	json_decref(listed);
	return rc;
}

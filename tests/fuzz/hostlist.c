/*
 * Fuzz target: node.conf's host_url, one snowd URL or several
 * (lib/hostlist.c, hostlist_parse(); the agent through wire_client_init(),
 * snow-nodesim through its overlay reader and --url).  Checks: an accepted
 * list has 1..HOSTLIST_MAX URLs, each with a host and a numeric port, all
 * with one path prefix and none twice; written back as URLs joined by ", "
 * it parses to the same list; moving along it visits every URL once per
 * round.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostlist hl, back;
	char *text, err[300], joined[HOSTLIST_MAX * 600];
	size_t i, j, off = 0;

	if (size > HOSTLIST_TEXT_MAX + 16)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (hostlist_parse(text, &hl, err, sizeof(err))) {
		free(text);
		return 0;
	}
	if (hl.n < 1 || hl.n > HOSTLIST_MAX || hl.cur != 0) {
		fprintf(stderr, "hostlist: %zu URLs, cur %zu\n", hl.n, hl.cur);
		abort();
	}
	for (i = 0; i < hl.n; i++) {
		const struct http_url *u = &hl.url[i];
		if (!u->host[0] || !u->port[0] || strspn(u->port, "0123456789") != strlen(u->port) ||
		    strcmp(u->base, hl.url[0].base)) {
			fprintf(stderr, "hostlist: URL %zu: host '%s' port '%s' base '%s'\n", i,
				u->host, u->port, u->base);
			abort();
		}
		for (j = 0; j < i; j++)
			if (!strcmp(u->host, hl.url[j].host) && !strcmp(u->port, hl.url[j].port) &&
			    u->tls == hl.url[j].tls) {
				fprintf(stderr, "hostlist: URL %zu is URL %zu\n", i, j);
				abort();
			}
		off += (size_t)snprintf(joined + off, sizeof(joined) - off, "%shttp%s://%s:%s%s",
					i ? ", " : "", u->tls ? "s" : "", u->host, u->port, u->base);
	}
	if (hostlist_parse(joined, &back, err, sizeof(err)) || back.n != hl.n ||
	    memcmp(back.url, hl.url, sizeof(hl.url[0]) * hl.n)) {
		fprintf(stderr, "hostlist: '%s' does not parse back (%s)\n", joined, err);
		abort();
	}
	for (i = 0; i < hl.n; i++)
		hostlist_next(&hl);
	if (hl.cur != 0) {
		fprintf(stderr, "hostlist: %zu moves on %zu URLs end at %zu\n", hl.n, hl.n, hl.cur);
		abort();
	}
	free(text);
	return 0;
}

/*
 * snowd's routes, declared in one table (route.c): every request snowd
 * answers is one row, with the lowest role that may call it, the largest
 * body it takes and its handler.  The router matches the whole path, then
 * checks the row's access; nothing else decides who may do what.  The
 * table is also what `snowd --routes` prints, what docs/api.md is checked
 * against, and what tests/integration/it_snowd_routes.sh walks with every role.
 */
#ifndef SNOW_ROUTE_H
#define SNOW_ROUTE_H

#include <stddef.h>

#include "http.h"

/* Who may call a route, lowest first. */
enum route_access {
	ACCESS_PUBLIC,   /* anyone (health, login, the console's files) */
	ACCESS_BOOT,     /* anyone on snowd's boot address (iPXE has no credentials) */
	ACCESS_NODE,     /* a node, its request signed with its secret (sign.h) */
	ACCESS_VIEWER,   /* a token or session of role viewer or above */
	ACCESS_OPERATOR,
	ACCESS_ADMIN,
};

struct route {
	const char *method;  /* "GET" also answers HEAD */
	/*
	 * The whole path.  "{kind}" is one segment: {node} {profile} {user}
	 * {token} a name (valid_name), {id} a number, {mac} a MAC address,
	 * {ref} an image reference; "{mac}.ipxe" a segment with a suffix; a last
	 * segment "*" takes the rest of the path (the console's files).
	 */
	const char *pattern;
	enum route_access access;
	size_t max_body;     /* bytes; 0: the route takes no body */
	enum MHD_Result (*handler)(struct http_ctx *h);
	const char *doc;     /* one line for docs/api.md */
};

/* The router http_start() takes. */
extern const struct http_router route_router;

/* The table, for snowd --routes and the tests.  @ret its rows, *n their count. */
const struct route *route_table(size_t *n);
const char *route_access_name(enum route_access a);
/*
 * Which row serves method and path, with its {x} segments copied into h's
 * param (h may be NULL to only match).  @ret the row; NULL with *allowed set
 * to 1 when the path exists under another method, 0 when it does not.
 */
const struct route *route_match(const char *method, const char *path, struct http_ctx *h,
				int *allowed);

#endif

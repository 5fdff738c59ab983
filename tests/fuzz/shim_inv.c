/*
 * Fuzz shim: what host/dnsmasq.c calls in host/inv.c, for targets that need
 * no inventory (linking inv.c would drag SQLite in).
 */
#include "inv.h"

int inv_node_foreach(struct inv *inv, int (*fn)(void *ctx, const struct inv_node *n), void *ctx)
{
	return 0;
}

/*
 * The node channel's read of a node (name -> id and secrets) for every
 * signed request, kept in memory (inv.h, inv_node_auth).
 *
 * Reading the row from SQLite for each of 10,000 reports a second was 8 % of
 * snowd's time.  What a request needs of the row (its id, secret and old
 * secret) changes only through this process's own writes to nodes: each of
 * them, and each rollback, moves inv->nodes_gen on, and an entry of an older
 * generation is read again.  With PostgreSQL another snowd may rekey or
 * remove a node, so there every request reads the row, as before.
 *
 * An open-addressing table by name; a full table reads the row rather than
 * evict.  Secrets are wiped when an entry is replaced or the table freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inv.h"

#define INV_AUTH_MAX (1u << 18) /* slots: half used at most, 131,072 nodes */

struct inv_auth_entry {
	uint64_t gen; /* 0: an empty slot (generations start at 1) */
	int64_t id;
	char name[SNOW_NAME_MAX + 1];
	char secret[SIGN_SECRET_HEX_LEN + 1];
	char old_secret[SIGN_SECRET_HEX_LEN + 1];
};

struct inv_auth {
	struct inv_auth_entry *slot;
	size_t cap, used; /* cap: a power of two */
};

static uint64_t inv_auth_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The slot holding name, or the empty one where it would go. */
static struct inv_auth_entry *inv_auth_slot(struct inv_auth *a, const char *name)
{
	size_t i = (size_t)inv_auth_hash(name) & (a->cap - 1);

	while (a->slot[i].gen && strcmp(a->slot[i].name, name))
		i = (i + 1) & (a->cap - 1);
	return &a->slot[i];
}

void inv_auth_free(struct inv *inv)
{
	struct inv_auth *a = inv->auth;

	if (!a)
		return;
	explicit_bzero(a->slot, a->cap * sizeof(*a->slot));
	free(a->slot);
	free(a);
	inv->auth = NULL;
}

/*
 * Room for one more name: the table rebuilt with the current generation's
 * entries only (others are dead weight), twice as large when that is needed;
 * -ENOSPC past INV_AUTH_MAX (then the name is not kept).
 */
static int inv_auth_room(struct inv *inv)
{
	struct inv_auth *a = inv->auth, *b;
	size_t i, live = 0;

	if (a && (a->used + 1) * 2 <= a->cap)
		return 0;
	for (i = 0; a && i < a->cap; i++)
		live += a->slot[i].gen == inv->nodes_gen;
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	for (b->cap = 1024; (live + 1) * 2 > b->cap; b->cap *= 2)
		;
	if (b->cap > INV_AUTH_MAX || !(b->slot = calloc(b->cap, sizeof(*b->slot)))) {
		free(b);
		return -ENOSPC;
	}
	for (i = 0; a && i < a->cap; i++)
		if (a->slot[i].gen == inv->nodes_gen) {
			*inv_auth_slot(b, a->slot[i].name) = a->slot[i];
			b->used++;
		}
	inv_auth_free(inv);
	inv->auth = b;
	return 0;
}

int inv_node_auth(struct inv *inv, const char *name, struct inv_node *out)
{
	struct inv_auth_entry *e;
	int rc;

	if (db_engine(inv->db) != DB_SQLITE || strlen(name) > SNOW_NAME_MAX)
		return inv_node_get(inv, name, out);
	if (inv->auth) {
		e = inv_auth_slot(inv->auth, name);
		if (e->gen == inv->nodes_gen) {
			memset(out, 0, sizeof(*out));
			out->id = e->id;
			memcpy(out->name, e->name, sizeof(out->name));
			memcpy(out->secret, e->secret, sizeof(out->secret));
			memcpy(out->old_secret, e->old_secret, sizeof(out->old_secret));
			return 0;
		}
	}
	if ((rc = inv_node_get(inv, name, out)))
		return rc;
	if (inv_auth_room(inv))
		return 0; /* not kept: read again next time */
	e = inv_auth_slot(inv->auth, name);
	if (!e->gen)
		inv->auth->used++;
	explicit_bzero(e, sizeof(*e));
	e->gen = inv->nodes_gen;
	e->id = out->id;
	memcpy(e->name, out->name, sizeof(e->name));
	memcpy(e->secret, out->secret, sizeof(e->secret));
	memcpy(e->old_secret, out->old_secret, sizeof(e->old_secret));
	return 0;
}

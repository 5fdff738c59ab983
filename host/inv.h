/*
 * The inventory: snowd's SQLite database (WAL) of nodes, discovered MACs and
 * API tokens.  The schema is versioned with PRAGMA user_version and brought
 * up to date by inv_open() in one transaction per migration.
 *
 * Every write is one transaction, committed before the function returns, so
 * what the API acknowledged survives a crash.
 */
#ifndef SNOW_INV_H
#define SNOW_INV_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "sign.h"
#include "valid.h"

#define INV_SCHEMA_VERSION 1

enum inv_role { ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 };

struct inv_node {
	int64_t id;
	char name[SNOW_NAME_MAX + 1];
	char mac[SNOW_MAC_STRLEN + 1];
	char ip[16];
	char image[SNOW_NAME_MAX + 1];
	char secret[SIGN_SECRET_HEX_LEN + 1];
	uint64_t last_nonce;
	int64_t created;
};

struct inv {
	sqlite3 *db;
};

/*
 * Open (creating if needed) the database at path and migrate it.
 * @ret 0, or -EIO with err filled (the database is then closed).
 */
int inv_open(struct inv *inv, const char *path, char *err, size_t errlen);
void inv_close(struct inv *inv);
/* @ret the schema version the open database is at. */
int inv_schema_version(struct inv *inv);

/*
 * Add a node.  n->name, mac, ip and image must be validated by the caller;
 * n->secret is generated here, n->id and created filled in.
 * @ret 0; -EEXIST with err naming the field (name, mac or ip) already
 * taken and by whom; -EIO.
 */
int inv_node_add(struct inv *inv, struct inv_node *n, char *err, size_t errlen);
/* @ret 0, -ENOENT or -EIO. */
int inv_node_rm(struct inv *inv, const char *name);
int inv_node_get(struct inv *inv, const char *name, struct inv_node *out);
int inv_node_get_by_mac(struct inv *inv, const char *mac, struct inv_node *out);
/*
 * Record the last nonce seen from a node, refusing one that is not above it.
 * @ret 0, -EALREADY for a replayed or old nonce, -ENOENT, -EIO.
 */
int inv_node_take_nonce(struct inv *inv, int64_t id, uint64_t nonce);

/*
 * Call fn for each node in name order; fn returning non-zero stops the walk
 * and is returned.  @ret 0, fn's value, or -EIO.
 */
int inv_node_foreach(struct inv *inv, int (*fn)(void *ctx, const struct inv_node *n), void *ctx);

/* Whether an IP is already given to a node.  @ret 1, 0 or -EIO. */
int inv_ip_taken(struct inv *inv, const char *ip);

/* Note an unknown MAC that asked to boot (insert or bump).  @ret 0 or -EIO. */
int inv_discovered_seen(struct inv *inv, const char *mac, const char *ip, int64_t now);
/* Forget a discovered MAC (when it becomes a node).  @ret 0 or -EIO. */
int inv_discovered_forget(struct inv *inv, const char *mac);
/* @ret a new JSON array of {mac, ip, first_seen, last_seen, count} or NULL. */
json_t *inv_discovered_list(struct inv *inv);

/*
 * Create an API token for name with role; the token text (shown once, never
 * stored: the database keeps its SHA-256) goes to out.
 * @ret 0, -EEXIST, -EIO.
 */
int inv_token_create(struct inv *inv, const char *name, enum inv_role role, char out[72]);
/* Look a presented token up.  @ret its role, or 0 when unknown. */
int inv_token_role(struct inv *inv, const char *token);
/* @ret the number of tokens, or -EIO. */
int inv_token_count(struct inv *inv);

const char *inv_role_name(enum inv_role r);

#endif

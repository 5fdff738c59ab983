/*
 * The inventory: snowd's database of nodes, discovered MACs, API tokens,
 * events, commands...: SQLite (WAL) in the state directory, or PostgreSQL
 * (db.h: one interface, the SQL written once).  The schema is versioned
 * (db_schema_version) and brought up to date by inv_open() in one
 * transaction.
 *
 * Every write is one transaction, committed before the function returns, so
 * what the API acknowledged survives a crash.
 */
#ifndef SNOW_INV_H
#define SNOW_INV_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "sign.h"
#include "valid.h"

#define INV_SCHEMA_VERSION 9
#define INV_VERSION_LEN 16 /* an image version: the first 16 hex digits of its SHA-256 */

enum inv_role { ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 };

struct inv_node {
	int64_t id;
	char name[SNOW_NAME_MAX + 1];
	char mac[SNOW_MAC_STRLEN + 1];
	char ip[16];
	char image[SNOW_NAME_MAX + 1];
	char secret[SIGN_SECRET_HEX_LEN + 1];
	/*
	 * After a rekey, the secret the running agent still holds, "" when none:
	 * accepted until the agent signs with the new one (inv_node_rekey).
	 */
	char old_secret[SIGN_SECRET_HEX_LEN + 1];
	uint64_t last_nonce;
	int64_t created;
	char profile[SNOW_NAME_MAX + 1]; /* "" for none */
};

/*
 * Writes that failed for the host's own reasons (disk full, read-only or
 * broken storage), not for what was asked.  The first failure of an episode
 * is logged with SQLite's reason; the episode ends when writes have worked
 * again for INV_RECOVER_MS after the last failure.
 */
#define INV_RECOVER_MS 5000
struct inv_health {
	int failing;              /* in an episode */
	int64_t fail_since_ms;    /* monotonic: its first failure */
	int64_t fail_last_ms;     /* monotonic: the last failure (kept after the episode) */
	int64_t fail_since;       /* realtime s, for people */
	uint64_t failures;        /* writes failed since start */
	char reason[256];         /* SQLite's message of the episode's first failure */
};

/* Limits on what outside requests can add (snowd's options). */
struct inv_limits {
	long discovered_max;      /* rows in discovered; the least recently seen go (0: no cap) */
	long discovered_per_min;  /* new MACs recorded a minute, in bursts of as many (0: no limit) */
};

#define INV_STMT_CACHE 64 /* prepared statements kept for reuse */

/* A prepared statement kept for the next inv_prepare() of the same SQL. */
struct inv_stmt {
	uint64_t hash;  /* of sql */
	char *sql;
	struct db_stmt *st;
	int busy;       /* handed out, not yet given back with inv_done() */
};

struct inv {
	struct db *db;
	struct inv_stmt cache[INV_STMT_CACHE];
	size_t ncache;
	struct inv_health health;
	struct inv_limits lim;
	double disc_tokens;       /* discovery's token bucket */
	int64_t disc_refill;      /* when it was last filled (s) */
	uint64_t disc_dropped;    /* new MACs not recorded: over the rate */
	int64_t disc_dropped_logged;
	int64_t txn_changes;      /* db_total_changes() at the last BEGIN */
	int batch;                /* a group commit is open (inv_batch_begin) */
	int batch_lost;           /* SQLite rolled the open group back: its commit fails */
	struct inv_auth *auth;    /* inv_node_auth's table (inv_auth.c) */
	uint64_t nodes_gen;       /* moved on by every write to nodes and every rollback */
};

/*
 * Open (creating if needed) the database, a SQLite path or a PostgreSQL URL
 * (db.h), and migrate it.
 * @ret 0, or -EIO with err filled (the database is then closed).
 */
int inv_open(struct inv *inv, const char *target, char *err, size_t errlen);
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
/*
 * What the node channel needs of a node for each signed request: id, name,
 * secret and old_secret (the other fields zero), from memory while nothing
 * wrote to nodes since it was read (inv_auth.c; SQLite only).  @ret as
 * inv_node_get.
 */
int inv_node_auth(struct inv *inv, const char *name, struct inv_node *out);
void inv_auth_free(struct inv *inv);
/* Every write to nodes (and every rollback) calls this: inv_node_auth reads again. */
static inline void inv_nodes_changed(struct inv *inv)
{
	inv->nodes_gen++;
}
int inv_node_get_by_mac(struct inv *inv, const char *mac, struct inv_node *out);
int inv_node_get_by_ip(struct inv *inv, const char *ip, struct inv_node *out);
/* Record a boot that reached the agent (stages borrowed: {stage: time}).  @ret 0 or -EIO. */
int inv_boot_add(struct inv *inv, int64_t node_id, const char *boot_id, int64_t started,
		 int64_t online, json_t *stages);
/* A node's boots, newest first.  @ret a new array or NULL. */
json_t *inv_boot_list(struct inv *inv, int64_t node_id, int limit);
/*
 * Record the last nonce seen from a node, refusing one that is not above it.
 * @ret 0, -EALREADY for a replayed or old nonce, -ENOENT, -EIO.
 */
int inv_node_take_nonce(struct inv *inv, int64_t id, uint64_t nonce);
/*
 * Give a node a new secret (into secret_out).  The one its agent holds is
 * kept as old_secret (the first one, when rekeyed again before the agent took
 * the new one) until inv_node_key_taken().  @ret 0, -ENOENT, -EIO or -errno
 * of getrandom.
 */
int inv_node_rekey(struct inv *inv, int64_t id, char secret_out[SIGN_SECRET_HEX_LEN + 1]);
/* The node's agent signed with its new secret: forget the old one.  @ret 0 or -EIO. */
int inv_node_key_taken(struct inv *inv, int64_t id);

/*
 * Call fn for each node in name order; fn returning non-zero stops the walk
 * and is returned.  @ret 0, fn's value, or -EIO.
 */
int inv_node_foreach(struct inv *inv, int (*fn)(void *ctx, const struct inv_node *n), void *ctx);

/* Mark taken[ip - first] for every node address in first..last.  @ret 0 or -EIO. */
int inv_ips_taken(struct inv *inv, uint32_t first, uint32_t last, unsigned char *taken);
/* Whether an IP is already given to a node.  @ret 1, 0 or -EIO. */
int inv_ip_taken(struct inv *inv, const char *ip);

/*
 * Note an unknown MAC that asked to boot (insert or bump).  A new MAC beyond
 * inv->lim.discovered_per_min is not recorded (counted in disc_dropped; it
 * asks again soon); at discovered_max rows the least recently seen goes.
 * @ret 0 (recorded or dropped) or -EIO.
 */
int inv_discovered_seen(struct inv *inv, const char *mac, const char *ip, int64_t now);
/* @ret the number of discovered MACs, or -EIO. */
int inv_discovered_count(struct inv *inv);
/* The rows of one of our tables (a constant name, never outside input).  @ret >= 0, or -EIO. */
int inv_count(struct inv *inv, const char *table);
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
/* [{name, role, created}]: a new array, or NULL. */
json_t *inv_token_list(struct inv *inv);
/* @ret 0, -ENOENT or -EIO. */
int inv_token_rm(struct inv *inv, const char *name);
/* Lowercase hex SHA-256 of a token or session cookie, as stored. */
void inv_token_hash(const char *token, char out[65]);
/* Parse "viewer"/"operator"/"admin".  @ret the role, or 0. */
enum inv_role inv_role_parse(const char *s);

const char *inv_role_name(enum inv_role r);

/* Delete the row of one of our tables named name.  @ret 0, -ENOENT, -EIO. */
int inv_delete_named(struct inv *inv, const char *table, const char *name);
/* [{name, role, created}] of a table with those columns (users, tokens). */
json_t *inv_list_named_roles(struct inv *inv, const char *table);

/* For the inventory's other files: run SQL / prepare a statement (NULL on error, logged). */
int inv_exec(struct inv *inv, const char *sql);
/*
 * A statement for sql, prepared once and reused: SQLite's parser is a good
 * part of a report's cost otherwise.  Give it back with inv_done() (never
 * db_finalize()); the same SQL asked for while its statement is out
 * (a query inside another's loop) gets a statement of its own.
 * @ret the statement, or NULL (logged).
 */
struct db_stmt *inv_prepare(struct inv *inv, const char *sql);
/* Give back a statement of inv_prepare() (reset, its bindings cleared); NULL is fine. */
void inv_done(struct inv *inv, struct db_stmt *st);
/*
 * Step a statement that writes, noting in inv->health a failure that is the
 * host's (disk full, read-only, I/O error) or a success.  @ret SQLite's code.
 */
int inv_write_step(struct inv *inv, struct db_stmt *st);
/* Roll back the transaction under way, if SQLite has not already done so. */
void inv_rollback(struct inv *inv);
/*
 * Group commit: open one transaction that the writes of many requests join
 * (a transaction of their own inside it becomes a savepoint), committed at
 * once by inv_batch_commit().  Whoever opens it must hold back every answer
 * that acknowledges those writes until the commit (chan.c does).  Opening
 * an open one does nothing.  @ret 0 or -EIO.
 */
int inv_batch_begin(struct inv *inv);
/* Commit the group, if one is open.  @ret 0, or -EIO: it was rolled back, all of it. */
int inv_batch_commit(struct inv *inv);
/* Whether writes are failing now (inv->health says since when and why). */
int inv_degraded(const struct inv *inv);

/* --- profiles and node settings (settings.h says what they hold) --- */

/* A node's own settings.  @ret a new object, or NULL when no such node. */
json_t *inv_node_settings(struct inv *inv, int64_t id);
/* Set a node's profile ("" or NULL: none) and own settings (borrowed).  @ret 0 or -EIO. */
int inv_node_configure(struct inv *inv, int64_t id, const char *profile, json_t *settings);
/* A profile's settings.  @ret a new object, or NULL when there is no such profile. */
json_t *inv_profile_get(struct inv *inv, const char *name);
/* Create (create=1) or replace a profile's settings.  @ret 0, -EEXIST, -ENOENT, -EIO. */
int inv_profile_put(struct inv *inv, const char *name, json_t *settings, int create);
/* Remove a profile no node uses.  @ret 0, -EBUSY (*users nodes use it), -ENOENT, -EIO. */
int inv_profile_rm(struct inv *inv, const char *name, int *users);
/* [{name, settings, created, nodes}]: a new array or NULL. */
json_t *inv_profile_list(struct inv *inv);

/* --- images (images.c puts their files in place) --- */

/* Record a version of an image (again: it becomes current).  @ret 0 or -EIO. */
int inv_image_add(struct inv *inv, const char *name, const char *version, int64_t ksize,
		  int64_t isize, int64_t now);
/* The newest version of name.  @ret 0, -ENOENT (not registered), -EIO. */
int inv_image_current(struct inv *inv, const char *name, char version[INV_VERSION_LEN + 1]);
/* @ret 1 when name has version, 0 when not, -EIO. */
int inv_image_has(struct inv *inv, const char *name, const char *version);
/* [{name, version, kernel_size, initrd_size, created}] newest first per name. */
json_t *inv_image_list(struct inv *inv);
/* Forget all but the newest keep versions.  @ret a new array of the versions dropped. */
json_t *inv_image_prune(struct inv *inv, const char *name, int keep);
/* Forget version of name (NULL: every version).  @ret a new array of the versions dropped, NULL on -EIO. */
json_t *inv_image_rm(struct inv *inv, const char *name, const char *version);

/* --- events (inv_cmd.c) --- */

/*
 * Insert events ({seq, time, type, attrs, severity?, publisher?}, checked by
 * the caller) of a node's boot inside the caller's transaction; one seen
 * before (same node, boot and seq) is skipped.  @ret 0 or -EIO.
 */
int inv_events_insert(struct inv *inv, int64_t node_id, const char *boot_id, json_t *events,
		      int64_t now);
/*
 * Store a report's events (a JSON array of {seq, time, type, attrs}, already
 * checked by the caller) for a node's boot in one transaction; events seen
 * before (same seq) are skipped.  *ack receives the highest seq stored for
 * this boot.  @ret 0 or -EIO (nothing stored).
 */
int inv_events_store(struct inv *inv, int64_t node_id, const char *boot_id, json_t *events,
		     int64_t now, int64_t *ack);
/*
 * Events of one node (node_id 0: all), at most limit, with id below before
 * (0: no bound): newest first; or, when after >= 0, those with id above
 * after, oldest first (for followers).  @ret a new JSON array or NULL.
 */
json_t *inv_events_list(struct inv *inv, int64_t node_id, int64_t before, int64_t after,
			int limit);
/* The id snowd gave a node's event.  @ret it, or 0 when not stored. */
int64_t inv_event_id(struct inv *inv, int64_t node_id, const char *boot_id, int64_t seq);

/* --- BMC event logs (inv_bmc.c) --- */

/*
 * How far a node's BMC log was read: the highest entry id taken (*cursor),
 * the last event seq given (*seq), both 0 when never; and the thresholds on
 * its bmc.* gauges (*thr: a new array, [] when none).  @ret 0 or -EIO.
 */
int inv_bmc_get(struct inv *inv, int64_t node_id, int64_t *cursor, int64_t *seq, json_t **thr);
/*
 * Store a BMC's new log entries and threshold events as the node's events
 * (boot "bmc", each {seq, time, type, attrs, severity}, checked by the
 * caller), the new cursor and seq, and thr (borrowed; NULL: unchanged), in
 * one transaction: all or nothing.  @ret 0 or -EIO.
 */
int inv_bmc_store(struct inv *inv, int64_t node_id, json_t *events, int64_t cursor, int64_t seq,
		  json_t *thr, int64_t now);

/* --- commands (inv_cmd.c) --- */

enum cmd_state { CMD_QUEUED, CMD_SENT, CMD_DONE, CMD_FAILED, CMD_TIMEOUT };
const char *cmd_state_name(enum cmd_state s);

/* Queue a command (args borrowed).  *id receives its id.  @ret 0 or -EIO. */
int inv_cmd_add(struct inv *inv, int64_t node_id, const char *op, json_t *args, int64_t now,
		int64_t *id);
/*
 * The commands a node still has to answer (queued or sent), oldest first, as
 * [{id, op, args}]; queued ones become sent.  Host-side ops (power.*, run by
 * snowd's power driver) are never among them.  @ret a new array or NULL.
 */
json_t *inv_cmd_take_pending(struct inv *inv, int64_t node_id, int64_t now);
/*
 * Record the results of a report ([{id, ok, result|error}]) for commands of
 * this node still open; the host's own (power.*) are not the node's to
 * finish and stay as they are.  @ret 0 or -EIO.
 */
int inv_cmd_results(struct inv *inv, int64_t node_id, json_t *results, int64_t now);
/*
 * Finish a command snowd ran itself (a power driver): done (ok) with result
 * (borrowed, may be NULL) or failed with error.  @ret 0, -ENOENT (no such
 * command, or no longer open), -EIO.
 */
int inv_cmd_finish(struct inv *inv, int64_t id, int ok, json_t *result, const char *error,
		   int64_t now);
/* Mark a command snowd started itself as sent.  @ret 0 or -EIO. */
int inv_cmd_mark_sent(struct inv *inv, int64_t id, int64_t now);
/*
 * Node node_id registered boot boot_id.  When that boot is new (not in the
 * boot history yet: call before inv_boot_add), every reboot and poweroff sent
 * to the node is done (it happened: the node came back), so none is
 * delivered again to the new boot.  @ret a new array of the ids finished
 * (often empty), or NULL on an inventory error.
 */
json_t *inv_cmd_boot_changed(struct inv *inv, int64_t node_id, const char *boot_id, int64_t now);
/* Commands open longer than max_age s become timed out.  @ret how many, or -EIO. */
int inv_cmd_expire(struct inv *inv, int64_t now, int64_t max_age);
/* One command as JSON (with the node's name).  @ret a new object, or NULL when none. */
json_t *inv_cmd_get(struct inv *inv, int64_t id);
/* A node's commands, newest first.  @ret a new array or NULL. */
json_t *inv_cmd_list(struct inv *inv, int64_t node_id, int limit);

/* --- retention (inv_cmd.c) --- */

/* How much history to keep of one kind: the newest keep rows, none older than max_age_s. */
struct inv_keep {
	long keep;       /* rows (0: no count limit) */
	long max_age_s;  /* seconds (0: no age limit) */
};
enum inv_history { INV_EVENTS, INV_BOOTS, INV_COMMANDS };
/*
 * Delete at most batch rows of kind that are beyond k (commands: finished
 * ones only), oldest first, so that one call never takes long; call again
 * while it returns batch.  now is realtime, seconds.
 * @ret the number deleted, or -EIO.
 */
int inv_prune(struct inv *inv, enum inv_history kind, const struct inv_keep *k, int64_t now,
	      int batch);

#endif

/* Boot networks and snowd URLs shared among the snowd of one PostgreSQL (peernet.h). */
#include "peernet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dnsmasq.h"
#include "log.h"
#include "sign.h"
#include "valid.h"

/*
 * One row a snowd: the boot network it serves, its URL, its heartbeat.  An
 * ordinary (logged) table: a claim outlives a crash of PostgreSQL.
 */
static const char peernet_schema[] =
	"SELECT pg_advisory_xact_lock(7671);"
	"CREATE TABLE IF NOT EXISTS snowd_nets (id text PRIMARY KEY, url text NOT NULL,"
	" boot_addr text NOT NULL, net bigint NOT NULL, prefix bigint NOT NULL,"
	" at DOUBLE PRECISION NOT NULL)";

static const char peernet_rows[] =
	"SELECT id, url, boot_addr, net, prefix, extract(epoch FROM now()) - at FROM snowd_nets "
	"WHERE id <> ?1 ORDER BY url";

static uint32_t peernet_mask(int prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

/* Whether a/pa and b/pb share an address. */
static int peernet_overlap(uint32_t a, int pa, uint32_t b, int pb)
{
	uint32_t m = peernet_mask(pa < pb ? pa : pb);

	return (a & m) == (b & m);
}

/*
 * Look at the other snowd's claims: a live one overlapping ip/prefix fills
 * err and @ret -EEXIST; with take_over, the stale overlapping ones are
 * deleted.  @ret 0, or -EIO with err filled.
 */
static int peernet_scan(struct db *db, const char *id, uint32_t ip, int prefix, int take_over,
			char *err, size_t errlen)
{
	struct db_stmt *st = db_prepare(db, peernet_rows), *del;
	char stale[8][64], ipt[16];
	size_t nstale = 0, i;
	int rc = DB_DONE, found = 0;

	if (!st) {
		snprintf(err, errlen, "database: boot networks: %s", db_errmsg(db));
		return -EIO;
	}
	db_bind_text(st, 1, id);
	ipv4_format(ip, ipt);
	while (!found && (rc = db_step(st)) == DB_ROW) {
		const char *other = (const char *)db_column_text(st, 0);
		const unsigned char *age = db_column_text(st, 5);
		double a = age ? strtod((const char *)age, NULL) : 0;
		if (!peernet_overlap(ip, prefix, (uint32_t)db_column_int64(st, 3),
				     (int)db_column_int64(st, 4)))
			continue;
		if (a < PEERNET_STALE_S) {
			snprintf(err, errlen,
				 "boot network: %s/%d overlaps %s, served by snowd %s (alive %.0f s ago):"
				 " two snowd cannot serve one boot network (stop that one, or give"
				 " this one another --boot-addr)",
				 ipt, prefix, db_column_text(st, 2), db_column_text(st, 1), a);
			found = 1;
		} else if (take_over && nstale < sizeof(stale) / sizeof(stale[0])) {
			snprintf(stale[nstale++], sizeof(stale[0]), "%s", other ? other : "");
		}
	}
	db_finalize(st);
	if (found)
		return -EEXIST;
	if (rc != DB_DONE) {
		snprintf(err, errlen, "database: boot networks: %s", db_errmsg(db));
		return -EIO;
	}
	for (i = 0; i < nstale; i++) {
		del = db_prepare(db, "DELETE FROM snowd_nets WHERE id = ?1");
		if (!del)
			return -EIO;
		db_bind_text(del, 1, stale[i]);
		rc = db_step(del);
		db_finalize(del);
		if (rc != DB_DONE) {
			snprintf(err, errlen, "database: boot networks: %s", db_errmsg(db));
			return -EIO;
		}
		log_info("peers: the boot network of a snowd gone for %d s or more is taken over",
			 PEERNET_STALE_S);
	}
	return 0;
}

int peernet_check(struct db *db, const char *id, uint32_t ip, int prefix, char *err,
		  size_t errlen)
{
	struct db_stmt *st = db_prepare(db, "SELECT to_regclass('snowd_nets') IS NOT NULL");
	int exists = 0;

	const unsigned char *t;

	if (st && db_step(st) == DB_ROW && (t = db_column_text(st, 0)))
		exists = t[0] == 't' || t[0] == '1';
	db_finalize(st);
	if (!exists)
		return 0; /* no snowd ran on this database yet */
	return peernet_scan(db, id, ip, prefix, 0, err, errlen);
}

int peernet_claim(struct db *db, const char *id, const char *url, const char *boot_addr,
		  uint32_t ip, int prefix, char *err, size_t errlen)
{
	struct db_stmt *st;
	int rc;

	if (db_exec(db, "BEGIN") != DB_OK)
		goto fail;
	if (db_exec(db, peernet_schema) != DB_OK)
		goto fail;
	/* Two snowd starting at once: the lock of the schema statement orders them. */
	rc = peernet_scan(db, id, ip, prefix, 1, err, errlen);
	if (rc) {
		db_exec(db, "ROLLBACK");
		return rc;
	}
	st = db_prepare(db, "INSERT INTO snowd_nets (id, url, boot_addr, net, prefix, at) VALUES "
			    "(?1, ?2, ?3, ?4, ?5, extract(epoch FROM now())) ON CONFLICT (id) DO UPDATE "
			    "SET url = excluded.url, boot_addr = excluded.boot_addr, net = excluded.net, "
			    "prefix = excluded.prefix, at = excluded.at");
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, url);
	db_bind_text(st, 3, boot_addr);
	db_bind_int64(st, 4, ip & peernet_mask(prefix));
	db_bind_int64(st, 5, prefix);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE || db_exec(db, "COMMIT") != DB_OK)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "database: boot networks: %s", db_errmsg(db));
	if (!db_autocommit(db))
		db_exec(db, "ROLLBACK");
	return -EIO;
}

int peernet_beat(struct db *db, const char *id, const char *own_url, char *urls, size_t urlslen,
		 struct peernet_peer *peers, size_t *npeers)
{
	size_t cap = *npeers;

	struct db_stmt *st = db_prepare(db, "UPDATE snowd_nets SET at = extract(epoch FROM now()) "
					    "WHERE id = ?1");
	size_t n = 1, len;
	int rc;

	*npeers = 0;
	if (!st)
		return -EIO;
	db_bind_text(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return -EIO;
	if (db_changes(db) == 0)
		return -ENOENT;
	/* This snowd first, then every other one heard of lately, in URL order. */
	snprintf(urls, urlslen, "%s", own_url);
	st = db_prepare(db, peernet_rows);
	if (!st)
		return -EIO;
	db_bind_text(st, 1, id);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *u = (const char *)db_column_text(st, 1);
		const unsigned char *age = db_column_text(st, 5);
		if (u && *npeers < cap) {
			snprintf(peers[*npeers].url, sizeof(peers[0].url), "%s", u);
			peers[(*npeers)++].age = age ? strtod((const char *)age, NULL) : 0;
		}
		if (!u || !*u || strpbrk(u, ", \t\n") || n >= PEERNET_URLS_MAX ||
		    (age && strtod((const char *)age, NULL) > PEERNET_FORGET_S))
			continue;
		if (strstr(urls, u)) {
			/* The same URL twice (a list refuses that): only a whole entry counts. */
			size_t ul = strlen(u);
			const char *p = urls;
			int dup = 0;
			while ((p = strstr(p, u))) {
				if ((p == urls || p[-1] == ' ') && (p[ul] == ',' || !p[ul]))
					dup = 1;
				p += ul;
			}
			if (dup)
				continue;
		}
		len = strlen(urls);
		if (len + 2 + strlen(u) + 1 > urlslen)
			continue;
		snprintf(urls + len, urlslen - len, ", %s", u);
		n++;
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : -EIO;
}

void peernet_release(struct db *db, const char *id)
{
	struct db_stmt *st = db_prepare(db, "DELETE FROM snowd_nets WHERE id = ?1");

	if (!st)
		return;
	db_bind_text(st, 1, id);
	if (db_step(st) != DB_DONE)
		log_warnx("peers: boot network not released: %s", db_errmsg(db));
	db_finalize(st);
}

int peernet_id(const char *state_dir, int create, char id[PEERNET_ID_LEN + 1])
{
	char path[4200], secret[SIGN_SECRET_HEX_LEN + 1];
	FILE *f;
	size_t n;
	int rc;

	snprintf(path, sizeof(path), "%s/snowd.id", state_dir);
	f = fopen(path, "r");
	if (f) {
		n = fread(id, 1, PEERNET_ID_LEN, f);
		fclose(f);
		id[n] = '\0';
		if (n == PEERNET_ID_LEN && strspn(id, "0123456789abcdef") == n)
			return 0;
	}
	id[0] = '\0';
	if (!create)
		return 0;
	if ((rc = sign_new_secret(secret)))
		return rc;
	memcpy(id, secret, PEERNET_ID_LEN);
	id[PEERNET_ID_LEN] = '\0';
	return file_write_atomic(path, id, PEERNET_ID_LEN, 0644);
}

/*
 * The boot networks of the snowd sharing one PostgreSQL (docs/scale-out.md):
 * each snowd claims its --boot-addr network in the table snowd_nets (its id,
 * URL, network, heartbeat).  A snowd whose network overlaps one that another
 * live snowd claims is refused at start; a claim whose heartbeat is older
 * than PEERNET_STALE_S is taken over.  The rows are also where each snowd
 * learns the others' URLs, which a node's host_url lists after its own.
 */
#ifndef SNOW_PEERNET_H
#define SNOW_PEERNET_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define PEERNET_STALE_S 15      /* a claim not renewed for this long may be taken over */
#define PEERNET_BEAT_MS 5000    /* how often a snowd renews its claim */
#define PEERNET_FORGET_S 86400  /* a snowd not heard of for this long leaves host_url */
#define PEERNET_URLS_MAX 8      /* URLs in a host_url (lib/hostlist.h: HOSTLIST_MAX) */

#define PEERNET_ID_LEN 32        /* a snowd's id: hex, kept in its state dir (snowd.id) */

/*
 * This snowd's id, read from state_dir/snowd.id; made there when missing and
 * create (else id is "").  @ret 0 or -errno.
 */
int peernet_id(const char *state_dir, int create, char id[PEERNET_ID_LEN + 1]);
/*
 * Whether ip/prefix may be served by snowd id (snowd -n: nothing written).
 * @ret 0, -EEXIST with err naming the other snowd and its network, or -EIO.
 */
int peernet_check(struct db *db, const char *id, uint32_t ip, int prefix, char *err,
		  size_t errlen);
/*
 * Claim ip/prefix for snowd id at url (one transaction; the table is made
 * when missing).  @ret 0, -EEXIST (a live snowd serves an overlapping
 * network: err says which), or -EIO.
 */
int peernet_claim(struct db *db, const char *id, const char *url, const char *boot_addr,
		  uint32_t ip, int prefix, char *err, size_t errlen);
/*
 * Renew the claim; urls gets own_url, then the other snowd's URLs (", "
 * between).  @ret 0, -ENOENT (the claim is gone: taken over), or -EIO.
 */
struct peernet_peer {
	char url[64];
	double age; /* seconds since its last heartbeat */
};
/*
 * ... and peers (up to *npeers, set to how many) every other snowd's URL and
 * heartbeat age, live or not.
 */
int peernet_beat(struct db *db, const char *id, const char *own_url, char *urls, size_t urlslen,
		 struct peernet_peer *peers, size_t *npeers);
/* A clean stop: the network is free at once. */
void peernet_release(struct db *db, const char *id);

#endif

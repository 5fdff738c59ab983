/*
 * After a warm reset, what the last boot's kernel left in pstore (ramoops:
 * its oops or panic dump, /sys/fs/pstore under the agent's root) goes to
 * snowd once the agent has registered (POST WIRE_PATH_PSTORE, signed; the
 * body is host/pstorep.h's), and is cleared once snowd took it; snowd ties it
 * to the boot that crashed (docs/crash.md).  A record that cannot be read
 * whole is sent as far as it was read; any bytes go as base64, so a corrupt
 * or compressed record reaches the host as raw bytes.
 */
#ifndef SNOW_NODE_PSTORE_H
#define SNOW_NODE_PSTORE_H

#include <jansson.h>

#include "wire.h"

#define PSTORE_DIR "/sys/fs/pstore"
#define PSTORE_RECORDS_MAX 32             /* records a request carries (host: PSTOREP_RECORDS_MAX) */
#define PSTORE_RECORD_MAX (256 * 1024)    /* bytes of a record sent (its end, when longer) */
#define PSTORE_BODY_MAX (640 * 1024)      /* record bytes a request carries (base64 fits 1 MiB) */
#define PSTORE_TRIES 8                    /* failed attempts before the agent gives up (logged) */

/*
 * The body for what ROOT/sys/fs/pstore holds (root "" for /), boot_id the
 * boot under way: {boot_id, records: [{name, time, data}]}.  @ret a new
 * reference, NULL with *rc 0 when there is nothing (no folder, no files), or
 * NULL with *rc -errno.
 */
json_t *pstore_collect(const char *root, const char *boot_id, int *rc);

/* Remove the records body (from pstore_collect) names: the kernel frees them. */
void pstore_clear(const char *root, json_t *body);

/*
 * One attempt: collect, send, clear what snowd took.  @ret 0 when done
 * (nothing there, or all sent), 1 when more records are left for another
 * request, -EAGAIN to try again later, -EPERM when snowd refused it for good.
 */
int pstore_send(struct wire_client *w, const char *root, const char *boot_id);

#endif

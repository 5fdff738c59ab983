/*
 * The pstore upload a node's agent sends after a warm reset (docs/crash.md):
 * POST /api/v1/node/pstore, signed like every node request, body
 *
 *   {"boot_id": "<the boot under way>",
 *    "records": [{"name": "dmesg-ramoops-0", "time": 1764961234,
 *                 "data": "<base64 of the file's bytes>"}, ...]}
 *
 * name: the file's name in /sys/fs/pstore (1..PSTOREP_NAME_MAX of
 * [A-Za-z0-9._-], not starting with '.'); time: its mtime, the time the
 * kernel wrote it (Unix seconds, 0: unknown); data: at most
 * PSTOREP_RECORD_MAX bytes once decoded.  Parsed here, in one place; the rest
 * (host/pstore.c) sees only the checked struct.
 */
#ifndef SNOW_PSTOREP_H
#define SNOW_PSTOREP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PSTOREP_RECORDS_MAX 32
#define PSTOREP_NAME_MAX 64
#define PSTOREP_RECORD_MAX (256 * 1024)
#define PSTOREP_BOOT_MAX 39

struct pstorep_record {
	char name[PSTOREP_NAME_MAX + 1];
	int64_t time;
	unsigned char *data; /* owned (pstorep_free); len bytes, plus a NUL not counted */
	size_t len;
	int text;            /* data is UTF-8 text without NULs (else kept as raw bytes) */
};

struct pstorep_upload {
	char boot_id[PSTOREP_BOOT_MAX + 1];
	struct pstorep_record rec[PSTOREP_RECORDS_MAX];
	size_t n;
};

/*
 * Check and decode a parsed body (borrowed) into u (zeroed here).
 * @ret 0, or -EINVAL with err naming the field and what was wrong (u then
 * holds nothing to free), or -ENOMEM.
 */
int pstorep_parse(json_t *body, struct pstorep_upload *u, char *err, size_t errlen);

void pstorep_free(struct pstorep_upload *u);

/* A boot id as a node names one: 1..39 of [A-Za-z0-9-].  @ret 1 if so. */
int pstorep_boot_ok(const char *s);

/*
 * A dmesg record's panic: the text from "Kernel panic - not syncing" to the
 * end of its line, else the record's "Oops#N" / "Panic#N" header line, into
 * out (cap > 0, NUL-terminated, control bytes replaced).  @ret 1 when a panic
 * line was found, 0 otherwise (out then holds the header or "").
 */
int pstorep_panic(const struct pstorep_record *r, char *out, size_t cap);

/* Whether the record is a kernel dump (name "dmesg-..."): a crash's evidence. */
int pstorep_is_dump(const struct pstorep_record *r);

#endif

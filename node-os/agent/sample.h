/*
 * Values the agent reads from /proc (and later /sys) under a root directory,
 * so tests point it at a fixture tree.  Each value has a dotted name, a kind
 * and a unit (the schema sent at registration); a reader fills a group of
 * values from one file.  The next step grows this table into the sysctl tree
 * of ARCHITECTURE.md (OIDs, watermarks, thresholds): keep the table the one
 * place that knows which values exist.
 *
 * Every reader refuses what it cannot parse: the values of that file are then
 * left invalid (not sent), and the error names the file and what was wrong.
 */
#ifndef SNOW_NODE_SAMPLE_H
#define SNOW_NODE_SAMPLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLE_MAX_FILE (64u << 10) /* /proc files we read are a few KiB */
#define SAMPLE_BOOT_ID_LEN 36       /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */

enum sample_id {
	SAMPLE_UPTIME_S,
	SAMPLE_LOAD1,
	SAMPLE_LOAD5,
	SAMPLE_LOAD15,
	SAMPLE_MEM_TOTAL_KB,
	SAMPLE_MEM_FREE_KB,
	SAMPLE_MEM_AVAIL_KB,
	SAMPLE_PROCS,
	SAMPLE_COUNT
};

enum sample_kind { SAMPLE_ATTRIBUTE, SAMPLE_COUNTER, SAMPLE_GAUGE };

struct sample_def {
	const char *name; /* dotted name on the wire, e.g. "vm.load.avg1" */
	enum sample_kind kind;
	const char *unit;
	const char *desc;
	int integer;      /* sent as a JSON integer rather than a real */
};

/* The value table, indexed by enum sample_id. */
extern const struct sample_def sample_defs[SAMPLE_COUNT];

struct sample_set {
	double v[SAMPLE_COUNT];
	uint32_t valid; /* bit i set when v[i] was read this round */
};

/*
 * Read a whole small file (root + rel) into buf as a NUL-terminated string.
 * @ret bytes read, or -errno (-EFBIG when it does not fit in cap - 1 bytes)
 * with err naming the file.
 */
long sample_read_file(const char *root, const char *rel, char *buf, size_t cap, char *err,
		      size_t errlen);

/*
 * The readers, one per source file.  Each sets its values and their valid
 * bits in s.  @ret 0, or -EINVAL (malformed) / -errno (unreadable) with err
 * naming the file and the problem; s is then unchanged for those values.
 */
int sample_uptime(const char *root, struct sample_set *s, char *err, size_t errlen);
int sample_loadavg(const char *root, struct sample_set *s, char *err, size_t errlen);
int sample_meminfo(const char *root, struct sample_set *s, char *err, size_t errlen);
int sample_procs(const char *root, struct sample_set *s, char *err, size_t errlen);

/*
 * Run every reader.  s is cleared first; what could be read is valid even
 * when a reader failed.  @ret 0, or the first reader's error (err says which).
 */
int sample_read_all(const char *root, struct sample_set *s, char *err, size_t errlen);

/*
 * This boot's id from proc/sys/kernel/random/boot_id (lowercase UUID).
 * @ret 0 or -EINVAL / -errno with err filled.
 */
int sample_boot_id(const char *root, char out[SAMPLE_BOOT_ID_LEN + 1], char *err, size_t errlen);

/*
 * The valid values as a JSON object {name: number}.
 * @ret a new reference the caller json_decref()s, or NULL (out of memory).
 */
json_t *sample_to_json(const struct sample_set *s);

/* The schema [{name, kind, unit, desc}], new reference, or NULL. */
json_t *sample_schema_json(void);

#endif

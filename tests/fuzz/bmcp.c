/*
 * Fuzz target: ipmitool's `sensor` and `sel list` text as snowd reads it
 * (host/bmcp.c bmcp_ipmi_parse(), bmcp_new_entries()).  The first 8 bytes
 * are a cursor, the rest the text.  Checks beyond crashes: every reading
 * has a valid bmc.* name (none twice), a finite value and a unit that fits;
 * every entry an id above 0 and printable text; the new entries after the
 * cursor are above it (or all of them, when the log was cleared), oldest
 * first, each once; the text cut at a line boundary parses to what its two
 * halves give together.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmcp.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "bmcp: " __VA_ARGS__);                                     \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static struct bmcp_poll p, halves;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t idx[BMCP_MAX_ENTRIES], i, j, k, cut;
	const char *t = (const char *)data + 8, *nl;
	int64_t cursor = 0, top = 0;
	char err[200];
	int rc;

	if (size < 8)
		return 0;
	memcpy(&cursor, data, 8);
	cursor &= 0xffff;
	size -= 8;
	memset(&p, 0, sizeof(p));
	rc = bmcp_ipmi_parse(t, size, &p, err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -71, "rc %d", rc);
	for (i = 0; i < p.nr; i++) {
		FZ_CHECK(!instr_name_check(p.r[i].name, err, sizeof(err)) &&
				 !strncmp(p.r[i].name, "bmc.", 4),
			 "name '%s'", p.r[i].name);
		FZ_CHECK(isfinite(p.r[i].v), "%s: not finite", p.r[i].name);
		FZ_CHECK(strlen(p.r[i].unit) <= INSTR_UNIT_MAX, "%s: unit", p.r[i].name);
		for (j = 0; j < i; j++)
			FZ_CHECK(strcmp(p.r[i].name, p.r[j].name), "'%s' twice", p.r[i].name);
	}
	for (i = 0; i < p.ne; i++) {
		FZ_CHECK(p.e[i].id > 0, "entry id %lld", (long long)p.e[i].id);
		for (j = 0; p.e[i].text[j]; j++)
			FZ_CHECK((unsigned char)p.e[i].text[j] >= 0x20 &&
					 (unsigned char)p.e[i].text[j] < 0x7f,
				 "entry %lld: byte %#x", (long long)p.e[i].id,
				 (unsigned char)p.e[i].text[j]);
		if (p.e[i].id > top)
			top = p.e[i].id;
	}
	k = bmcp_new_entries(&p, cursor, idx, BMCP_MAX_ENTRIES);
	for (i = 0; i < k; i++) {
		FZ_CHECK(p.e[idx[i]].id > (top < cursor ? 0 : cursor), "entry %lld at cursor %lld",
			 (long long)p.e[idx[i]].id, (long long)cursor);
		FZ_CHECK(!i || p.e[idx[i - 1]].id <= p.e[idx[i]].id, "not oldest first");
		for (j = 0; j < i; j++)
			FZ_CHECK(idx[j] != idx[i], "entry %zu twice", idx[i]);
	}
	/* Cut after the first line: both halves fed into one poll give the same. */
	nl = memchr(t, '\n', size);
	if (!nl || p.nr >= BMCP_MAX_READINGS || p.ne >= BMCP_MAX_ENTRIES)
		return 0;
	cut = (size_t)(nl - t) + 1;
	memset(&halves, 0, sizeof(halves));
	bmcp_ipmi_parse(t, cut, &halves, err, sizeof(err));
	bmcp_ipmi_parse(t + cut, size - cut, &halves, err, sizeof(err));
	FZ_CHECK(halves.nr == p.nr && halves.ne == p.ne &&
			 !memcmp(halves.r, p.r, p.nr * sizeof(p.r[0])) &&
			 !memcmp(halves.e, p.e, p.ne * sizeof(p.e[0])),
		 "cut after the first line: %zu readings %zu entries, whole: %zu %zu", halves.nr,
		 halves.ne, p.nr, p.ne);
	return 0;
}

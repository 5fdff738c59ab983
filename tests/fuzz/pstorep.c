/*
 * Fuzz target: a node's pstore upload (host/pstorep.c), the body of
 * POST /api/v1/node/pstore once its signature is good: a node's bytes, so
 * outside input.  Checks beyond crashes: what is taken is within its limits
 * (records, names, sizes, boot id); written back as a body (b64_encode) it
 * parses to the same records; a record's panic line has no control bytes and
 * fits; and lib/b64.c decodes what it encodes, the input's own bytes too.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "jsonh.h"
#include "pstorep.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "pstorep: " __VA_ARGS__);                                  \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fz_b64(const uint8_t *data, size_t size)
{
	char *enc = malloc(B64_LEN(size) + 1);
	unsigned char *dec = malloc(size + 3);
	long n;

	if (!enc || !dec)
		abort();
	FZ_CHECK(b64_encode(data, size, enc) == B64_LEN(size), "encoded length");
	n = b64_decode(enc, strlen(enc), dec);
	FZ_CHECK(n == (long)size && !memcmp(dec, data, size), "b64 round trip of %zu bytes", size);
	free(enc);
	free(dec);
	/* The input as base64 text: decoded, it encodes back to exactly the input. */
	dec = malloc(size / 4 * 3 + 3);
	if (!dec)
		abort();
	n = b64_decode((const char *)data, size, dec);
	if (n >= 0) {
		enc = malloc(B64_LEN((size_t)n) + 1);
		if (!enc)
			abort();
		b64_encode(dec, (size_t)n, enc);
		FZ_CHECK(strlen(enc) == size && !memcmp(enc, data, size), "decoded text re-encodes differently");
		free(enc);
	}
	free(dec);
}

static json_t *fz_body(const struct pstorep_upload *u)
{
	json_t *recs = json_array();
	size_t i;

	for (i = 0; i < u->n; i++) {
		char *b = malloc(B64_LEN(u->rec[i].len) + 1);
		if (!b)
			abort();
		b64_encode(u->rec[i].data, u->rec[i].len, b);
		json_array_append_new(recs, json_pack("{s:s, s:I, s:s}", "name", u->rec[i].name, "time",
						      (json_int_t)u->rec[i].time, "data", b));
		free(b);
	}
	return json_pack("{s:s, s:o}", "boot_id", u->boot_id, "records", recs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pstorep_upload u, v;
	char err[256], panic[200];
	json_t *body, *again;
	size_t i;
	int rc;

	if (size > 64 * 1024)
		return 0;
	fz_b64(data, size);
	body = jsonh_parse_object((const char *)data, size, err, sizeof(err));
	if (!body)
		return 0;
	rc = pstorep_parse(body, &u, err, sizeof(err));
	json_decref(body);
	if (rc) {
		FZ_CHECK(rc == -22 || rc == -12, "rc %d", rc);
		FZ_CHECK(err[0], "refused without a message");
		return 0;
	}
	FZ_CHECK(u.n >= 1 && u.n <= PSTOREP_RECORDS_MAX, "%zu records", u.n);
	FZ_CHECK(pstorep_boot_ok(u.boot_id), "boot id '%s'", u.boot_id);
	for (i = 0; i < u.n; i++) {
		const struct pstorep_record *r = &u.rec[i];
		size_t k, nl = strlen(r->name);
		FZ_CHECK(nl >= 1 && nl <= PSTOREP_NAME_MAX && r->name[0] != '.' && !strchr(r->name, '/'),
			 "name '%s'", r->name);
		FZ_CHECK(r->len <= PSTOREP_RECORD_MAX && r->data[r->len] == '\0', "record %zu: %zu bytes",
			 i, r->len);
		FZ_CHECK(r->time >= 0, "time %lld", (long long)r->time);
		if (r->text)
			FZ_CHECK(memchr(r->data, '\0', r->len) == NULL, "text with a NUL");
		pstorep_panic(r, panic, sizeof(panic));
		FZ_CHECK(strlen(panic) < sizeof(panic), "panic line too long");
		for (k = 0; panic[k]; k++)
			FZ_CHECK((unsigned char)panic[k] >= 0x20 && panic[k] != 0x7f,
				 "panic line with control byte %#x", (unsigned char)panic[k]);
	}
	again = fz_body(&u);
	FZ_CHECK(again && !pstorep_parse(again, &v, err, sizeof(err)), "written back, refused: %s", err);
	FZ_CHECK(v.n == u.n && !strcmp(v.boot_id, u.boot_id), "written back: %zu records", v.n);
	for (i = 0; i < u.n; i++)
		FZ_CHECK(!strcmp(u.rec[i].name, v.rec[i].name) && u.rec[i].time == v.rec[i].time &&
				 u.rec[i].len == v.rec[i].len && u.rec[i].text == v.rec[i].text &&
				 !memcmp(u.rec[i].data, v.rec[i].data, u.rec[i].len),
			 "record %zu differs written back", i);
	json_decref(again);
	pstorep_free(&v);
	pstorep_free(&u);
	return 0;
}

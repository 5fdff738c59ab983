/* The pstore upload's parser (pstorep.h): input from a node, checked once here. */
#include "pstorep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "jsonh.h"

int pstorep_boot_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= PSTOREP_BOOT_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

static int pstorep_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= PSTOREP_NAME_MAX && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Whether b is UTF-8 without NUL or control bytes but tab, newline and CR. */
static int pstorep_is_text(const unsigned char *b, size_t n)
{
	size_t i;
	json_t *j;

	for (i = 0; i < n; i++)
		if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r') || b[i] == 0x7f)
			return 0;
	j = json_stringn((const char *)b, n); /* jansson checks the UTF-8 */
	if (!j)
		return 0;
	json_decref(j);
	return 1;
}

void pstorep_free(struct pstorep_upload *u)
{
	size_t i;

	for (i = 0; i < u->n; i++) {
		free(u->rec[i].data);
		u->rec[i].data = NULL;
	}
	u->n = 0;
}

int pstorep_parse(json_t *body, struct pstorep_upload *u, char *err, size_t errlen)
{
	static const char *const top[] = { "boot_id", "records", NULL };
	static const char *const rkeys[] = { "name", "time", "data", NULL };
	const char *boot, *name, *data;
	json_t *recs, *r;
	json_int_t t;
	size_t i, j, dlen;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!json_is_object(body)) {
		snprintf(err, errlen, "body: not an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(body, top, err, errlen)) ||
	    (rc = jsonh_get_str(body, "boot_id", 1, PSTOREP_BOOT_MAX, &boot, err, errlen)))
		return rc;
	if (!pstorep_boot_ok(boot)) {
		snprintf(err, errlen, "boot_id: not a boot id (letters, digits and '-')");
		return -EINVAL;
	}
	snprintf(u->boot_id, sizeof(u->boot_id), "%s", boot);
	recs = json_object_get(body, "records");
	if (!json_is_array(recs) || json_array_size(recs) < 1 ||
	    json_array_size(recs) > PSTOREP_RECORDS_MAX) {
		snprintf(err, errlen, "records: must be an array of 1..%d records", PSTOREP_RECORDS_MAX);
		return -EINVAL;
	}
	json_array_foreach(recs, i, r) {
		struct pstorep_record *p = &u->rec[u->n];
		char e2[200];
		t = 0; /* absent: unknown */
		if (!json_is_object(r)) {
			snprintf(err, errlen, "records[%zu]: not an object", i);
			goto bad;
		}
		if (jsonh_only_keys(r, rkeys, e2, sizeof(e2)) ||
		    jsonh_get_str(r, "name", 1, PSTOREP_NAME_MAX, &name, e2, sizeof(e2)) ||
		    jsonh_get_int(r, "time", 0, 0, (json_int_t)1 << 40, &t, e2, sizeof(e2))) {
			snprintf(err, errlen, "records[%zu].%s", i, e2);
			goto bad;
		}
		if (!pstorep_name_ok(name)) {
			snprintf(err, errlen, "records[%zu].name: not a pstore file name", i);
			goto bad;
		}
		for (j = 0; j < u->n; j++)
			if (!strcmp(u->rec[j].name, name)) {
				snprintf(err, errlen, "records[%zu].name: '%s' twice", i, name);
				goto bad;
			}
		data = json_string_value(json_object_get(r, "data"));
		if (!data) {
			snprintf(err, errlen, "records[%zu].data: missing or not a string", i);
			goto bad;
		}
		dlen = json_string_length(json_object_get(r, "data"));
		if (dlen / 4 * 3 > PSTOREP_RECORD_MAX + 2) {
			snprintf(err, errlen, "records[%zu].data: larger than %d bytes", i,
				 PSTOREP_RECORD_MAX);
			goto bad;
		}
		p->data = malloc(dlen / 4 * 3 + 1);
		if (!p->data) {
			snprintf(err, errlen, "out of memory");
			pstorep_free(u);
			return -ENOMEM;
		}
		{
			long got = b64_decode(data, dlen, p->data);
			if (got < 0 || got > PSTOREP_RECORD_MAX) {
				free(p->data);
				p->data = NULL;
				snprintf(err, errlen, "records[%zu].data: %s", i,
					 got < 0 ? "not base64" : "too large");
				goto bad;
			}
			p->len = (size_t)got;
		}
		p->data[p->len] = '\0';
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->time = t;
		p->text = pstorep_is_text(p->data, p->len);
		u->n++;
	}
	return 0;
bad:
	pstorep_free(u);
	return -EINVAL;
}

int pstorep_is_dump(const struct pstorep_record *r)
{
	return !strncmp(r->name, "dmesg-", 6);
}

/* Copy the line at p (up to end) into out, control bytes as '?'. */
static void pstorep_line(const char *p, const char *end, char *out, size_t cap)
{
	size_t o = 0;

	while (p < end && *p != '\n' && *p != '\r' && o + 1 < cap) {
		unsigned char c = (unsigned char)*p++;
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

int pstorep_panic(const struct pstorep_record *r, char *out, size_t cap)
{
	const char *s = (const char *)r->data, *end = s + r->len, *p;

	out[0] = '\0';
	if (!r->text || !r->len)
		return 0;
	/* The last panic line (an oops may come first, and the panic after it). */
	p = NULL;
	for (const char *q = s; (q = memmem(q, (size_t)(end - q), "Kernel panic - not syncing",
					   26)); q++)
		p = q;
	if (p) {
		pstorep_line(p, end, out, cap);
		return 1;
	}
	/* ramoops starts a dump with "Oops#1 Part1" or "Panic#1 Part1". */
	pstorep_line(s, end, out, cap);
	if (strncmp(out, "Oops#", 5) && strncmp(out, "Panic#", 6))
		out[0] = '\0';
	return 0;
}

/*
 * Fuzz target: the stream's and the node list's filter (host/stream.c,
 * stream_filter_parse(): ?values=A,B.*&full=NODE) and the cut it makes.
 * Input: a flags byte (bit 0: values= given, bit 1: full= given), then the
 * values= text, '\n', the full= text.  A filter accepted must hold only
 * well-formed names within the limits and its key; then a node's update
 * made of the names in the input and a few others is cut, and every name
 * is checked against a plain reference of what the filter wants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "valid.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "stream_filter: " __VA_ARGS__);                            \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int fz_wants(const struct stream_filter *f, const char *name)
{
	unsigned i;

	for (i = 0; i < f->nvalues; i++) {
		const char *w = f->values[i];
		size_t n = strlen(w);
		if (w[n - 1] == '*' ? !strncmp(name, w, n - 1) : !strcmp(name, w))
			return 1;
	}
	return 0;
}

static int fz_full(const struct stream_filter *f, const char *node)
{
	unsigned i;

	for (i = 0; i < f->nfull; i++)
		if (!strcmp(f->full[i], node))
			return 1;
	return 0;
}

static void fz_check_parsed(const struct stream_filter *f, const char *values, const char *full)
{
	char want_key[8192];
	unsigned i;

	FZ_CHECK(f->on && f->nvalues <= STREAM_FILTER_MAX_VALUES && f->nfull <= STREAM_FILTER_MAX_FULL,
		 "%u values, %u full", f->nvalues, f->nfull);
	for (i = 0; i < f->nvalues; i++) {
		const char *v = f->values[i];
		size_t n = strlen(v), k;
		FZ_CHECK(n >= 1 && (n <= 63 || (n == 64 && v[63] == '*')), "value '%s'", v);
		for (k = 0; k < n; k++)
			FZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
					v[k]) || (v[k] == '*' && k == n - 1),
				 "value '%s'", v);
	}
	for (i = 0; i < f->nfull; i++)
		FZ_CHECK(!valid_name(f->full[i], NULL, 0), "full '%s'", f->full[i]);
	snprintf(want_key, sizeof(want_key), "%s\n%s", values ? values : "*", full ? full : "");
	FZ_CHECK(!strcmp(f->key, want_key), "key '%s', want '%s'", f->key, want_key);
}

/* An update with each name of the input (and a few more) as a value. */
static json_t *fz_update(const char *values, const char *full)
{
	json_t *vals = json_object(), *wms = json_object();
	const char *extra[] = { "cpu.load", "cpu", "mem.used", "a", "" };
	char item[100];
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		json_object_set_new(vals, extra[i], json_integer((json_int_t)i));
	for (p = values ? values : ""; *p;) {
		size_t n = strcspn(p, ",*");
		snprintf(item, sizeof(item), "%.*s%s", (int)(n < 90 ? n : 90), p, p[n] == '*' ? "x" : "");
		json_object_set_new(vals, item, json_integer(1));
		json_object_set_new(wms, item, json_pack("[i,i]", 0, 1));
		p += n;
		if (*p)
			p++;
	}
	return json_pack("{s:o, s:o, s:i, s:[]}", "values", vals, "watermarks", wms, "last_seen", 5,
			 "devices");
}

static void fz_check_cut(const struct stream_filter *f, json_t *upd, json_t *cut, const char *node)
{
	const char *k, *which[] = { "values", "watermarks" };
	json_t *v;
	size_t i;

	if (fz_full(f, node)) {
		FZ_CHECK(json_equal(cut, upd), "node %s in full= was cut", node);
		return;
	}
	FZ_CHECK(json_equal(json_object_get(cut, "last_seen"), json_object_get(upd, "last_seen")),
		 "last_seen lost");
	for (i = 0; i < 2; i++) {
		json_t *in = json_object_get(upd, which[i]), *out = json_object_get(cut, which[i]);
		json_object_foreach(in, k, v)
			FZ_CHECK(!!json_object_get(out, k) == fz_wants(f, k), "%s: '%s' %s", which[i], k,
				 json_object_get(out, k) ? "kept" : "dropped");
		json_object_foreach(out, k, v)
			FZ_CHECK(json_object_get(in, k) != NULL, "%s: '%s' made up", which[i], k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_filter f;
	char *text, *values, *full, *nl, err[300];
	json_t *upd, *cut, *node, *schema, *v;
	const char *k;
	size_t i, n = 0;

	if (!size || size > 4096)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	values = data[0] & 1 ? text : NULL;
	full = data[0] & 2 ? (nl ? nl + 1 : "") : NULL;
	if (stream_filter_parse(&f, values, full, err, sizeof(err))) {
		FZ_CHECK(!f.on && !f.nvalues && !f.nfull && !f.key, "refused but not left empty");
		free(text);
		return 0;
	}
	if (!values && !full) {
		FZ_CHECK(!f.on, "no filter given, but one is on");
		free(text);
		return 0;
	}
	fz_check_parsed(&f, values, full);
	upd = fz_update(values, full);
	cut = stream_filter_update(&f, "node1", upd);
	fz_check_cut(&f, upd, cut, "node1");
	json_decref(cut);
	if (f.nfull) {
		cut = stream_filter_update(&f, f.full[0], upd);
		fz_check_cut(&f, upd, cut, f.full[0]);
		json_decref(cut);
	}
	/* A node of GET /api/v1/nodes: the same cut, and its schema's too. */
	node = json_deep_copy(upd);
	schema = json_array();
	json_object_foreach(json_object_get(upd, "values"), k, v)
		json_array_append_new(schema, json_pack("{s:s, s:s}", "name", k, "kind", "gauge"));
	json_object_set_new(node, "schema", schema);
	json_object_set_new(node, "name", json_string("node1"));
	stream_filter_node(&f, node);
	if (!fz_full(&f, "node1")) {
		json_object_del(node, "name");
		fz_check_cut(&f, upd, node, "node1");
		FZ_CHECK(!json_object_get(node, "devices"), "devices kept");
		json_array_foreach(json_object_get(node, "schema"), i, v)
			FZ_CHECK(fz_wants(&f, json_string_value(json_object_get(v, "name"))),
				 "schema: '%s' kept", json_string_value(json_object_get(v, "name")));
		json_object_foreach(json_object_get(upd, "values"), k, v)
			n += fz_wants(&f, k);
		FZ_CHECK(json_array_size(json_object_get(node, "schema")) == n, "schema: %zu of %zu kept",
			 json_array_size(json_object_get(node, "schema")), n);
	}
	json_decref(node);
	json_decref(upd);
	stream_filter_free(&f);
	free(text);
	return 0;
}

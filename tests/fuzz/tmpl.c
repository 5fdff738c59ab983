/*
 * Fuzz target: templates (lib/tmpl.c).  The input is "NAME=VALUE" lines
 * (at most 8), a line "--", then the template (all of it is the template
 * when there is no "--" line).  The rendering is compared
 * with a plain reference: each {{NAME}} replaced once (values are never
 * expanded again), an unknown name or an unterminated "{{" an error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

#define FZ_MAX_VARS 8

/* The reference renderer.  @ret 0, or -1 where tmpl_render() must fail. */
static int fz_render(const char *t, const struct tmpl_var *v, size_t nv, struct buf *out)
{
	const char *open, *close;
	size_t i, n;

	while ((open = strstr(t, "{{"))) {
		buf_append(out, t, (size_t)(open - t));
		if (!(close = strstr(open + 2, "}}")))
			return -1;
		n = (size_t)(close - open - 2);
		for (i = 0; i < nv && !(strlen(v[i].name) == n && !strncmp(v[i].name, open + 2, n)); i++)
			;
		if (i == nv)
			return -1;
		buf_puts(out, v[i].value);
		t = close + 2;
	}
	buf_puts(out, t);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_var vars[FZ_MAX_VARS];
	struct buf got = BUF_INIT, want = BUF_INIT;
	char *text = malloc(size + 1), *p, *nl, *tmpl, err[200];
	size_t nvars = 0;
	int rc, ref;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* The variables end at the first line "--"; without one, all is template. */
	if (!strncmp(text, "--\n", 3)) {
		tmpl = text + 3;
		*text = '\0';
	} else if ((p = strstr(text, "\n--\n"))) {
		tmpl = p + 4;
		p[1] = '\0';
	} else {
		tmpl = text;
	}
	for (p = text; tmpl != text && (nl = strchr(p, '\n')); p = nl + 1) {
		char *eq;
		*nl = '\0';
		if (nvars == FZ_MAX_VARS || !(eq = strchr(p, '=')))
			continue;
		*eq = '\0';
		vars[nvars].name = p;
		vars[nvars].value = eq + 1;
		nvars++;
	}
	rc = tmpl_render(tmpl, vars, nvars, &got, err, sizeof(err));
	ref = fz_render(tmpl, vars, nvars, &want);
	if (!rc != !ref || (!rc && (got.len != want.len || memcmp(got.data, want.data, got.len)))) {
		fprintf(stderr, "tmpl: rc %d (%s), reference %d\ngot:  '%s'\nwant: '%s'\n", rc,
			rc ? err : "", ref, got.data ? got.data : "", want.data ? want.data : "");
		abort();
	}
	buf_free(&got);
	buf_free(&want);
	free(text);
	return 0;
}

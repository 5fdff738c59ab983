#include "tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int tmpl_render(const char *tmpl, const struct tmpl_var *vars, size_t nvars, struct buf *out,
		char *err, size_t errlen)
{
	const char *p = tmpl;
	int rc;

	for (;;) {
		const char *open = strstr(p, "{{"), *close;
		size_t i, n;

		if (!open)
			return buf_puts(out, p);
		if ((rc = buf_append(out, p, (size_t)(open - p))))
			return rc;
		close = strstr(open + 2, "}}");
		if (!close) {
			snprintf(err, errlen, "template: unterminated '{{'");
			return -EINVAL;
		}
		n = (size_t)(close - open - 2);
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == n && !memcmp(vars[i].name, open + 2, n))
				break;
		if (i == nvars || !vars[i].value) {
			snprintf(err, errlen, "template: no value for '{{%.*s}}'", (int)n, open + 2);
			return -ENOENT;
		}
		if ((rc = buf_puts(out, vars[i].value)))
			return rc;
		p = close + 2;
	}
}

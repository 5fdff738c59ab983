/*
 * Text templates with {{name}} placeholders, for the generated files whose
 * exact text matters (iPXE scripts, dnsmasq config): every placeholder must
 * have a value, so a typo in a template is an error, not an empty string.
 */
#ifndef SNOW_TMPL_H
#define SNOW_TMPL_H

#include <stddef.h>

#include "buf.h"

struct tmpl_var {
	const char *name;
	const char *value;
};

/*
 * Append tmpl to out with each {{name}} replaced by its value from vars
 * (nvars entries).  @ret 0; -ENOENT with err naming the placeholder that
 * has no value; -EINVAL for an unterminated "{{"; -ENOMEM.
 */
int tmpl_render(const char *tmpl, const struct tmpl_var *vars, size_t nvars, struct buf *out,
		char *err, size_t errlen);

#endif

/* BMC readings and log entries, and ipmitool's text (bmcp.h). */
#include "bmcp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *bmcp_family_name(enum bmcp_family f)
{
	static const char *const names[] = { "temp", "fan", "power", "volt", "current", "sensor" };

	return f <= BMCP_OTHER ? names[f] : "sensor";
}

/* Copy src into dst (cap), every byte outside printable ASCII a '?', spaces trimmed. */
static void bmcp_printable(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i, n = 0;

	while (len && (*src == ' ' || *src == '\t')) {
		src++;
		len--;
	}
	for (i = 0; i < len && src[i] && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static int bmcp_taken(const struct bmcp_poll *p, const char *name)
{
	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->r[i].name, name))
			return 1;
	return 0;
}

int bmcp_add_reading(struct bmcp_poll *p, enum bmcp_family f, const char *src, size_t srclen,
		     const char *unit, double v)
{
	char slug[INSTR_NAME_MAX + 1], name[96], err[64];
	const char *fam = bmcp_family_name(f);
	size_t i, n = 0, room = INSTR_NAME_MAX - strlen("bmc..") - strlen(fam) - 3; /* "_NN" */
	int under = 1, k;

	if (!isfinite(v))
		return -EINVAL;
	if (p->nr >= BMCP_MAX_READINGS) {
		p->dropped++;
		return -ENOSPC;
	}
	/* "CPU1 Temp" -> cpu1_temp: one '_' for every run of other bytes. */
	for (i = 0; i < srclen && src[i] && n < room; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			slug[n++] = (char)c;
			under = 0;
		} else if (!under) {
			slug[n++] = '_';
			under = 1;
		}
	}
	while (n && slug[n - 1] == '_')
		n--;
	slug[n] = '\0';
	if (!n)
		return -EINVAL;
	snprintf(name, sizeof(name), "bmc.%s.%s", fam, slug);
	for (k = 2; bmcp_taken(p, name) && k < 100; k++)
		snprintf(name, sizeof(name), "bmc.%s.%s_%d", fam, slug, k);
	if (bmcp_taken(p, name) || instr_name_check(name, err, sizeof(err))) {
		p->dropped++;
		return -EINVAL;
	}
	/* Whole field written (zeros after the name): polls compare as bytes. */
	memset(p->r[p->nr].name, 0, sizeof(p->r[p->nr].name));
	memcpy(p->r[p->nr].name, name, strlen(name));
	bmcp_printable(p->r[p->nr].unit, sizeof(p->r[p->nr].unit), unit, strlen(unit));
	p->r[p->nr].v = v;
	p->nr++;
	return 0;
}

int bmcp_add_entry(struct bmcp_poll *p, int64_t id, int64_t time, const char *when,
		   const char *severity, const char *text)
{
	struct bmcp_entry *e;
	size_t i, low = 0;

	if (id <= 0)
		return -EINVAL;
	if (p->ne < BMCP_MAX_ENTRIES) {
		e = &p->e[p->ne++];
	} else {
		/* Full: the newest are the ones a cursor has not passed yet. */
		for (i = 1; i < p->ne; i++)
			if (p->e[i].id < p->e[low].id)
				low = i;
		if (p->e[low].id >= id)
			return 0;
		e = &p->e[low];
	}
	e->id = id;
	e->time = time > 0 ? time : 0;
	bmcp_printable(e->when, sizeof(e->when), when, strlen(when));
	bmcp_printable(e->severity, sizeof(e->severity), severity, strlen(severity));
	bmcp_printable(e->text, sizeof(e->text), text, strlen(text));
	return 0;
}

#define BMCP_FIELDS 12

/* Split line (len bytes) at '|' into at most BMCP_FIELDS fields.  @ret their count. */
static int bmcp_split(const char *line, size_t len, const char **f, size_t *flen)
{
	int n = 0;
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '|')
			continue;
		if (n == BMCP_FIELDS)
			return n + 1; /* more than any shape: neither */
		f[n] = line + start;
		flen[n] = i - start;
		/* Fields are padded with spaces both sides. */
		while (flen[n] && (*f[n] == ' ' || *f[n] == '\t')) {
			f[n]++;
			flen[n]--;
		}
		while (flen[n] && (f[n][flen[n] - 1] == ' ' || f[n][flen[n] - 1] == '\t' ||
				   f[n][flen[n] - 1] == '\r'))
			flen[n]--;
		n++;
		start = i + 1;
	}
	return n;
}

/* A field as a C string (cut to cap). */
static void bmcp_field(char *out, size_t cap, const char *f, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(out, f, len);
	out[len] = '\0';
}

/* ipmitool's unit words: the family and Snow's unit.  @ret 0, or -1 for a discrete sensor. */
static int bmcp_ipmi_unit(const char *u, enum bmcp_family *f, const char **unit)
{
	static const struct {
		const char *word;
		enum bmcp_family f;
		const char *unit;
	} units[] = {
		{ "degrees C", BMCP_TEMP, "C" }, { "RPM", BMCP_FAN, "RPM" },
		{ "Watts", BMCP_POWER, "W" },    { "Volts", BMCP_VOLT, "V" },
		{ "Amps", BMCP_CURRENT, "A" },   { "percent", BMCP_OTHER, "%" },
	};

	if (!u[0] || !strcmp(u, "discrete"))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(u, units[i].word)) {
			*f = units[i].f;
			*unit = units[i].unit;
			return 0;
		}
	*f = BMCP_OTHER;
	*unit = "";
	return 0;
}

/* A whole decimal number: [0-9]+ (up to 18 digits) or, with hex, [0-9a-fA-F]+.  @ret -1 if not. */
static int64_t bmcp_number(const char *s, size_t len, int hex)
{
	int64_t v = 0;
	size_t i;

	if (!len || len > (hex ? 15 : 18))
		return -1;
	for (i = 0; i < len; i++) {
		int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
			hex && s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 :
			hex && s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * (hex ? 16 : 10) + d;
	}
	return v;
}

/* "MM/DD/YYYY" and "HH:MM:SS" (the BMC's clock, taken as UTC).  @ret Unix s, or 0. */
static int64_t bmcp_ipmi_time(const char *date, size_t dl, const char *tm, size_t tl)
{
	struct tm t = { 0 };
	int64_t mo, d, y, h, mi, s;

	if (dl != 10 || tl != 8 || date[2] != '/' || date[5] != '/' || tm[2] != ':' || tm[5] != ':')
		return 0;
	mo = bmcp_number(date, 2, 0);
	d = bmcp_number(date + 3, 2, 0);
	y = bmcp_number(date + 6, 4, 0);
	h = bmcp_number(tm, 2, 0);
	mi = bmcp_number(tm + 3, 2, 0);
	s = bmcp_number(tm + 6, 2, 0);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || s < 0 || s > 60)
		return 0;
	t.tm_year = (int)y - 1900;
	t.tm_mon = (int)mo - 1;
	t.tm_mday = (int)d;
	t.tm_hour = (int)h;
	t.tm_min = (int)mi;
	t.tm_sec = (int)s;
	return (int64_t)timegm(&t);
}

int bmcp_ipmi_parse(const char *text, size_t len, struct bmcp_poll *p, char *err, size_t errlen)
{
	const char *f[BMCP_FIELDS], *line = text, *end = text + len, *nl;
	size_t fl[BMCP_FIELDS];
	int known = 0, n;

	for (; line < end; line = nl + 1) {
		char a[64], b[64], c[64];
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		n = bmcp_split(line, (size_t)(nl - line), f, fl);
		if (n == 10) {
			/* sensor: name | reading | unit | status | 6 thresholds */
			enum bmcp_family fam;
			const char *unit;
			char *stop;
			double v;
			known = 1;
			bmcp_field(a, sizeof(a), f[1], fl[1]);
			bmcp_field(b, sizeof(b), f[2], fl[2]);
			if (!strcmp(a, "na") || bmcp_ipmi_unit(b, &fam, &unit))
				continue;
			v = strtod(a, &stop);
			if (stop == a || *stop)
				continue;
			bmcp_add_reading(p, fam, f[0], fl[0], unit, v);
		} else if (n == 6 || n == 7) {
			/* sel list: id (hex) | date | time | sensor | event | direction [| reading] */
			int64_t id = bmcp_number(f[0], fl[0], 1), t = 0;
			char when[80], msg[BMCP_TEXT_MAX + 1];
			if (id <= 0)
				continue;
			known = 1;
			bmcp_field(a, sizeof(a), f[1], fl[1]);
			bmcp_field(b, sizeof(b), f[2], fl[2]);
			if (!strcmp(a, "Pre-Init")) {
				/* Seconds since the BMC started: no time of day to give. */
				snprintf(when, sizeof(when), "Pre-Init +%lld s",
					 (long long)(bmcp_number(f[2], fl[2], 0) > 0 ?
						     bmcp_number(f[2], fl[2], 0) : 0));
			} else {
				t = bmcp_ipmi_time(f[1], fl[1], f[2], fl[2]);
				snprintf(when, sizeof(when), "%.30s %.30s", a, b);
			}
			bmcp_field(c, sizeof(c), f[3], fl[3]);
			snprintf(msg, sizeof(msg), "%s: %.*s (%.*s)", c, (int)(fl[4] < 100 ? fl[4] : 100),
				 f[4], (int)(fl[5] < 40 ? fl[5] : 40), f[5]);
			bmcp_add_entry(p, id, t, when, "", msg);
			p->has_log = 1;
		} else if (nl - line >= 18 && !memcmp(line, "SEL has no entries", 18)) {
			known = 1;
			p->has_log = 1;
		}
	}
	if (!known) {
		snprintf(err, errlen, "no sensor or SEL line in ipmitool's output (%zu bytes)", len);
		return -EPROTO;
	}
	return 0;
}

size_t bmcp_new_entries(const struct bmcp_poll *p, int64_t cursor, size_t *idx, size_t n)
{
	int64_t top = 0;
	size_t i, j, k = 0;

	for (i = 0; i < p->ne; i++)
		if (p->e[i].id > top)
			top = p->e[i].id;
	if (top < cursor)
		cursor = 0; /* cleared since: its ids started again */
	for (i = 0; i < p->ne && k < n; i++)
		if (p->e[i].id > cursor)
			idx[k++] = i;
	/* Oldest first (insertion sort: few entries). */
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && p->e[idx[j - 1]].id > p->e[idx[j]].id; j--) {
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return k;
}

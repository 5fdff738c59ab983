/*
 * The steady report, read without building a JSON tree (report.h,
 * report_fast()).  Most reports a node sends carry only its envelope, its
 * values and its watermarks, and building jansson's tree of them (an
 * allocation per key, string and number, then a hash table per object) was
 * the largest cost of a report in snowd (docs/nodesim.md).  This reader
 * takes exactly that shape, strictly as JSON defines it, into the same
 * typed structs, and leaves the spans of "events" and "results" (a few
 * hundred bytes when a node has any) to the caller to read with jansson;
 * anything else (an escape, a byte outside printable ASCII, a key it does
 * not know, a number out of range, a duplicate)
 * makes it step aside, and the caller reads the body through jansson and
 * report_check() as before, so every refusal and its message stay theirs.
 * tests/fuzz/report_fast.c checks that both readers agree on every body
 * this one takes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct rf {
	const char *p, *end;
};

static void rf_ws(struct rf *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Skip c (after blanks).  @ret 0, or -1 when something else is there. */
static int rf_char(struct rf *r, char c)
{
	rf_ws(r);
	if (r->p >= r->end || *r->p != c)
		return -1;
	r->p++;
	return 0;
}

/* Whether c comes next (after blanks), taking it if so. */
static int rf_peek(struct rf *r, char c)
{
	rf_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 1;
	}
	return 0;
}

/*
 * A string of printable ASCII without escapes: *s points into the body,
 * *n its length.  @ret 0, or -1 for anything else (not necessarily bad JSON).
 */
static int rf_string(struct rf *r, const char **s, size_t *n)
{
	const char *q;

	if (rf_char(r, '"'))
		return -1;
	for (q = r->p; q < r->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
			return -1;
	if (q >= r->end)
		return -1;
	*s = r->p;
	*n = (size_t)(q - r->p);
	r->p = q + 1;
	return 0;
}

/* A string as above equal to want. */
static int rf_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(s, want, n);
}

/*
 * A JSON number, by the grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * an integer when it has neither fraction nor exponent (as jansson reads
 * it).  @ret 0, or -1 (not a number, or out of range: jansson says which).
 */
static int rf_number(struct rf *r, struct report_num *x, int k)
{
	/* 10^0..10^22: exact in a double. */
	static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
					1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
					1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	char text[64], *end;
	const char *q, *s;
	int integer = 1, exp = 0;
	uint64_t m = 0;    /* the digits, while they fit */
	unsigned nd = 0;   /* digits in m; past 18 m is not exact */
	unsigned nfrac = 0;
	size_t n;

	rf_ws(r);
	q = s = r->p;
	if (q < r->end && *q == '-')
		q++;
	if (q >= r->end || *q < '0' || *q > '9')
		return -1;
	if (*q == '0')
		q++;
	else
		for (; q < r->end && *q >= '0' && *q <= '9'; q++, nd++)
			m = m * 10 + (uint64_t)(*q - '0');
	if (q < r->end && *q == '.') {
		integer = 0;
		if (++q >= r->end || *q < '0' || *q > '9')
			return -1;
		for (; q < r->end && *q >= '0' && *q <= '9'; q++, nfrac++, nd++)
			m = m * 10 + (uint64_t)(*q - '0');
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		integer = 0;
		exp = 1;
		if (++q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || *q < '0' || *q > '9')
			return -1;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	/*
	 * Most numbers: an integer of up to 18 digits, or a decimal whose digits
	 * make at most 2^53 with at most 22 after the point.  Then the digits and
	 * the power of ten are exact doubles, and one division rounds as strtod
	 * does (Clinger's fast path): the same value, without the copy and the
	 * library's general conversion.
	 */
	if (integer && nd <= 18) {
		long long v = *s == '-' ? -(long long)m : (long long)m;
		x->i[k] = v;
		x->v[k] = (double)v;
		x->integer[k] = 1;
		r->p = q;
		return 0;
	}
	if (!integer && !exp && nd <= 15 && nfrac <= 22) {
		double v = (double)m / pow10[nfrac];
		x->i[k] = 0;
		x->v[k] = *s == '-' ? -v : v;
		x->integer[k] = 0;
		r->p = q;
		return 0;
	}
	n = (size_t)(q - s);
	if (n >= sizeof(text))
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	if (integer) {
		long long v = strtoll(text, &end, 10);
		if (errno || *end)
			return -1;
		x->i[k] = v;
		x->v[k] = (double)v;
	} else {
		double v = strtod(text, &end);
		if (errno || *end)
			return -1;
		x->i[k] = 0;
		x->v[k] = v;
	}
	x->integer[k] = (unsigned char)integer;
	r->p = q;
	return 0;
}

/*
 * {name: number} (pair 0) or {name: [low, high]} (pair 1), as report_nums()
 * takes them.  @ret 0, -ENOMEM, or -1 (step aside).
 */
static int rf_nums(struct rf *r, int pair, struct report_num **out, size_t *nout)
{
	struct report_num *a = NULL;
	size_t n = 0, cap = 0;

	if (rf_char(r, '{'))
		return -1;
	if (!rf_peek(r, '}')) {
		do {
			struct report_num *x;
			char msg[200];
			const char *key;
			size_t klen;

			if (n == REPORT_MAX_VALUES)
				goto aside;
			if (n == cap) {
				struct report_num *b;
				cap = cap ? 2 * cap : 64;
				b = realloc(a, cap * sizeof(*a));
				if (!b) {
					free(a);
					return -ENOMEM;
				}
				a = b;
			}
			x = &a[n];
			memset(x, 0, sizeof(*x));
			if (rf_string(r, &key, &klen) || klen >= sizeof(x->name))
				goto aside;
			memcpy(x->name, key, klen);
			x->name[klen] = '\0';
			if (instr_name_check(x->name, msg, sizeof(msg)) || rf_char(r, ':'))
				goto aside;
			if (pair) {
				if (rf_char(r, '[') || rf_number(r, x, 0) || rf_char(r, ',') ||
				    rf_number(r, x, 1) || rf_char(r, ']'))
					goto aside;
			} else if (rf_number(r, x, 0)) {
				goto aside;
			}
			n++;
		} while (rf_peek(r, ','));
		if (rf_char(r, '}'))
			goto aside;
	}
	*out = a;
	*nout = n;
	return 0;
aside:
	free(a);
	return -1;
}

/* Whether the sorted index of names holds one twice (jansson refuses duplicates). */
static int rf_dup(const struct report_num *a, const uint32_t *idx, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (!strcmp(a[idx[i - 1]].name, a[idx[i]].name))
			return 1;
	return 0;
}

/*
 * Past the end of the array that opened at start (its '[' taken already):
 * brackets and braces counted, strings and their escapes skipped, nothing
 * else checked (jansson reads the array).  @ret 0, or -1 when it does not end.
 */
static int rf_skip_array(struct rf *r, const char *start)
{
	const char *q = start + 1;
	unsigned depth = 1;

	while (q < r->end) {
		char c = *q++;
		if (c == '"') {
			while (q < r->end && *q != '"') {
				if (*q == '\\' && ++q == r->end)
					return -1;
				q++;
			}
			if (q >= r->end)
				return -1;
			q++;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if ((c == ']' || c == '}') && !--depth) {
			r->p = q;
			return 0;
		}
	}
	return -1;
}

int report_fast(const char *data, size_t len, struct report_head *head, struct report_state *out)
{
	enum { K_NAME = 1, K_BOOT = 2, K_SEQ = 4, K_UPTIME = 8, K_VALUES = 16, K_WM = 32,
	       K_EVENTS = 64, K_RESULTS = 128 };
	struct rf r = { data, data + len };
	struct report_state n;
	unsigned seen = 0;
	uint32_t *wm_idx = NULL;
	int rc = 0;

	memset(&n, 0, sizeof(n));
	memset(head, 0, sizeof(*head));
	if (!data || rf_char(&r, '{') || rf_peek(&r, '}'))
		return 0;
	do {
		struct report_num num;
		const char *key, *s;
		size_t klen, slen;
		unsigned k;

		if (rf_string(&r, &key, &klen) || rf_char(&r, ':'))
			goto aside;
		k = rf_is(key, klen, "name") ? K_NAME : rf_is(key, klen, "boot_id") ? K_BOOT :
		    rf_is(key, klen, "seq") ? K_SEQ : rf_is(key, klen, "uptime_s") ? K_UPTIME :
		    rf_is(key, klen, "values") ? K_VALUES : rf_is(key, klen, "watermarks") ? K_WM :
		    rf_is(key, klen, "events") ? K_EVENTS : rf_is(key, klen, "results") ? K_RESULTS :
		    0;
		if (!k || (seen & k))
			goto aside;
		seen |= k;
		switch (k) {
		case K_NAME:
		case K_BOOT:
			/* As chan.c's jsonh_get_str: 1..SNOW_NAME_MAX and 1..39 bytes. */
			if (rf_string(&r, &s, &slen) || !slen ||
			    slen > (k == K_NAME ? sizeof(head->name) : sizeof(head->boot_id)) - 1)
				goto aside;
			memcpy(k == K_NAME ? head->name : head->boot_id, s, slen);
			break;
		case K_SEQ:
		case K_UPTIME:
			if (rf_number(&r, &num, 0) || !num.integer[0])
				goto aside;
			if (k == K_SEQ) {
				if (num.i[0] < 0)
					goto aside;
				head->seq = num.i[0];
			}
			break;
		case K_VALUES:
		case K_WM:
			rc = rf_nums(&r, k == K_WM, k == K_WM ? &n.wm : &n.values,
				     k == K_WM ? &n.nwm : &n.nvalues);
			if (rc)
				goto aside;
			break;
		default:
			/* Events, a command's result: their arrays are the caller's to read (report_head). */
			rf_ws(&r);
			s = r.p;
			if (rf_char(&r, '['))
				goto aside;
			if (rf_peek(&r, ']'))
				break;
			if (rf_skip_array(&r, s))
				goto aside;
			*(k == K_EVENTS ? &head->events : &head->results) = s;
			*(k == K_EVENTS ? &head->events_len : &head->results_len) = (size_t)(r.p - s);
		}
	} while (rf_peek(&r, ','));
	if (rf_char(&r, '}'))
		goto aside;
	rf_ws(&r);
	if (r.p != r.end || (seen & (K_NAME | K_BOOT | K_SEQ)) != (K_NAME | K_BOOT | K_SEQ))
		goto aside;
	if (n.nvalues &&
	    !(n.values_by_name = report_index_names(n.values, n.nvalues, sizeof(*n.values)))) {
		rc = -ENOMEM;
		goto aside;
	}
	if (n.nwm && !(wm_idx = report_index_names(n.wm, n.nwm, sizeof(*n.wm)))) {
		rc = -ENOMEM;
		goto aside;
	}
	if (rf_dup(n.values, n.values_by_name, n.nvalues) || rf_dup(n.wm, wm_idx, n.nwm))
		goto aside;
	free(wm_idx);
	n.has = (seen & K_VALUES ? REPORT_VALUES : 0) | (seen & K_WM ? REPORT_WATERMARKS : 0);
	*out = n;
	return 1;
aside:
	free(wm_idx);
	report_state_free(&n);
	memset(head, 0, sizeof(*head));
	return rc == -ENOMEM ? -ENOMEM : 0;
}

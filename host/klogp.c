/* The netconsole datagram parser (klogp.h). */
#include "klogp.h"

#include <errno.h>
#include <string.h>

/* A decimal number of at most 20 digits that fits in 64 bits, ending at one of stops.  @ret 0 or -EINVAL. */
static int klogp_num(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -EINVAL;
		n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

/* The extended header, up to and with its ';'.  @ret 1 when buf has one, 0 when not, -EINVAL when bad. */
static int klogp_ext(const char *buf, size_t len, struct klogp_msg *m)
{
	const char *p = buf, *end = buf + len, *semi = memchr(buf, ';', len > 128 ? 128 : len);
	uint64_t level, off, total;

	/* A plain line may start with digits too: only LEVEL,SEQ,USEC,...; is extended. */
	if (!semi || klogp_num(&p, semi, &level) || p >= semi || *p != ',')
		return 0;
	p++;
	if (klogp_num(&p, semi, &m->seq) || p >= semi || *p != ',')
		return 0;
	p++;
	if (klogp_num(&p, semi, &m->usec) || p >= semi || *p != ',')
		return 0;
	if (level > 1023)
		return -EINVAL;
	m->ext = 1;
	m->level = (int)(level & 7);
	/* FLAGS, then optional fields; only ncfrag= is used. */
	for (p++; p < semi; p++) {
		if (*p != ',' || (size_t)(semi - p) < 8 || memcmp(p, ",ncfrag=", 8))
			continue;
		p += 8;
		if (klogp_num(&p, semi, &off) || p >= semi || *p != '/')
			return -EINVAL;
		p++;
		if (klogp_num(&p, semi, &total) || off >= total || total > 65536)
			return -EINVAL;
		m->frag = 1;
		m->frag_off = (size_t)off;
		m->frag_len = (size_t)total;
		break;
	}
	m->text = semi + 1;
	m->text_len = (size_t)(end - (semi + 1));
	return 1;
}

int klogp_parse(const char *buf, size_t len, struct klogp_msg *m)
{
	const char *nl;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!len || len > KLOGP_MAX)
		return -EINVAL;
	rc = klogp_ext(buf, len, m);
	if (rc < 0)
		return rc;
	if (!rc) {
		memset(m, 0, sizeof(*m));
		m->text = buf;
		m->text_len = len;
		return 0;
	}
	/* The record's text is its first line; " KEY=VALUE" lines follow (a fragment has none). */
	if (!m->frag && (nl = memchr(m->text, '\n', m->text_len)))
		m->text_len = (size_t)(nl - m->text);
	if (m->frag && m->frag_off + m->text_len > m->frag_len)
		return -EINVAL;
	return 0;
}

/* Bytes of the UTF-8 sequence starting at s (at most n), or 0 when it is not one. */
static size_t klogp_utf8(const unsigned char *s, size_t n)
{
	size_t want, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		want = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		want = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		want = 4;
	else
		return 0;
	if (n < want)
		return 0;
	for (i = 1; i < want; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three-byte forms, surrogates, and past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return want;
}

size_t klogp_clean(const char *text, size_t len, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0, u;

	while (i < len && o + 1 < cap) {
		if (s[i] >= 0x80) {
			u = klogp_utf8(s + i, len - i);
			if (u && o + u < cap) {
				memcpy(out + o, s + i, u);
				o += u;
				i += u;
				continue;
			}
			out[o++] = '?';
			i++;
			continue;
		}
		out[o++] = (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') || s[i] == 0x7f ? '?' :
										    (char)s[i];
		i++;
	}
	out[o] = '\0';
	return o;
}

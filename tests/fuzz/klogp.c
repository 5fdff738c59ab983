/*
 * Fuzz target: the netconsole datagram (host/klogp.c), as snowd's UDP port
 * gets it from anyone.  Checks beyond crashes: an extended record's text lies
 * inside the datagram, after its ';', one line, and a fragment ends within
 * its record; a datagram that parses as extended parses the same with a
 * plain line's bytes after it; klogp_clean() gives text without control bytes
 * but tab and newline, valid UTF-8 (jansson takes it as a JSON string), no
 * longer than asked, and is the same when cleaned again.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klogp.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "klogp: " __VA_ARGS__);                                    \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fz_clean(const char *text, size_t len, size_t cap)
{
	char *out = malloc(cap), *again = malloc(cap);
	size_t n, m, i;
	json_t *j;

	if (!out || !again)
		abort();
	n = klogp_clean(text, len, out, cap);
	FZ_CHECK(n < cap && out[n] == '\0' && strlen(out) == n, "clean: length %zu, cap %zu", n, cap);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		FZ_CHECK(c >= 0x20 || c == '\t' || c == '\n', "clean: control byte %#x kept at %zu", c, i);
		FZ_CHECK(c != 0x7f, "clean: DEL kept at %zu", i);
	}
	j = json_stringn(out, n);
	FZ_CHECK(j, "clean: not UTF-8 (json_stringn refused %zu bytes)", n);
	json_decref(j);
	m = klogp_clean(out, n, again, cap);
	FZ_CHECK(m == n && !memcmp(out, again, n), "clean: not the same cleaned again");
	free(out);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct klogp_msg m, m2;
	char *longer;
	int rc;

	if (size > KLOGP_MAX)
		size = KLOGP_MAX;
	rc = klogp_parse(buf, size, &m);
	if (!rc) {
		FZ_CHECK(m.text >= buf && m.text + m.text_len <= buf + size, "text outside the datagram");
		if (m.ext) {
			FZ_CHECK(m.text > buf && m.text[-1] == ';', "extended text not after ';'");
			FZ_CHECK(m.level >= 0 && m.level <= 7, "level %d", m.level);
			if (!m.frag)
				FZ_CHECK(!memchr(m.text, '\n', m.text_len), "extended text of two lines");
			else
				FZ_CHECK(m.frag_off + m.text_len <= m.frag_len && m.frag_len <= 65536,
					 "fragment %zu+%zu past %zu", m.frag_off, m.text_len, m.frag_len);
			/* More bytes after the record's first line do not change its header. */
			if (size + 8 <= KLOGP_MAX && !m.frag &&
			    memchr(m.text, '\n', size - (size_t)(m.text - buf))) {
				longer = malloc(size + 8);
				if (!longer)
					abort();
				memcpy(longer, buf, size);
				memcpy(longer + size, " K=V\nxy\n", 8);
				FZ_CHECK(!klogp_parse(longer, size + 8, &m2) && m2.ext && m2.seq == m.seq &&
						 m2.usec == m.usec && m2.level == m.level &&
						 m2.text_len == m.text_len,
					 "extended record changed by what follows its first line");
				free(longer);
			}
		} else {
			FZ_CHECK(m.text == buf && m.text_len == size, "plain text is not the datagram");
		}
		fz_clean(m.text, m.text_len, 1 + (size ? data[0] % 64 : 0) + m.text_len);
		fz_clean(m.text, m.text_len, 1 + (size > 1 ? data[1] % 16 : 0));
	} else {
		FZ_CHECK(rc == -22, "rc %d", rc);
	}
	return 0;
}

#include "hostlist.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hostlist_parse(const char *text, struct hostlist *hl, char *err, size_t errlen)
{
	char one[HOSTLIST_TEXT_MAX + 1], why[256];
	const char *p = text;
	size_t len, i;

	memset(hl, 0, sizeof(*hl));
	if (!text || strlen(text) > HOSTLIST_TEXT_MAX) {
		snprintf(err, errlen, "host_url: %s", text ? "longer than 2048 characters" : "missing");
		return -EINVAL;
	}
	for (;;) {
		p += strspn(p, ", \t");
		if (!*p)
			break;
		len = strcspn(p, ", \t");
		if (hl->n == HOSTLIST_MAX) {
			snprintf(err, errlen, "host_url: more than %d URLs", HOSTLIST_MAX);
			return -EINVAL;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (http_url_parse(one, &hl->url[hl->n], why, sizeof(why))) {
			snprintf(err, errlen, "host_url: URL %zu: %s", hl->n + 1, why);
			return -EINVAL;
		}
		for (i = 0; i < hl->n; i++) {
			const struct http_url *a = &hl->url[i], *b = &hl->url[hl->n];
			if (strcmp(a->base, b->base)) {
				snprintf(err, errlen,
					 "host_url: URL %zu: path '%s' differs from URL 1's '%s' "
					 "(every snowd serves the node channel at one path)",
					 hl->n + 1, b->base, hl->url[0].base);
				return -EINVAL;
			}
			if (!strcmp(a->host, b->host) && !strcmp(a->port, b->port) &&
			    a->tls == b->tls) {
				snprintf(err, errlen, "host_url: URL %zu is URL %zu again", hl->n + 1,
					 i + 1);
				return -EINVAL;
			}
		}
		hl->n++;
		p += len;
	}
	if (!hl->n) {
		snprintf(err, errlen, "host_url: empty");
		return -EINVAL;
	}
	return 0;
}

const struct http_url *hostlist_cur(const struct hostlist *hl)
{
	return &hl->url[hl->cur];
}

size_t hostlist_next(struct hostlist *hl)
{
	if (hl->n)
		hl->cur = (hl->cur + 1) % hl->n;
	return hl->cur;
}

int hostlist_should_move(int rc, int status)
{
	if (status)
		return status >= 500 && status <= 599;
	return rc && rc != -EBADMSG && rc != -ENOMEM;
}

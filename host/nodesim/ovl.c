#include "ovl.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "cpio.h"
#include "hostlist.h"
#include "httpc.h"

#define OVL_LINE_MAX 1024

int ovl_cpio_find(const void *data, size_t len, const char *path, const void **out,
		  size_t *outlen, char *err, size_t errlen)
{
	return cpio_find(data, len, path, out, outlen, err, errlen);
}

/* What the file says, before checking; strings owned (conf_free()). */
struct ovl_raw {
	char *name, *mac, *host_url, *secret, *sysctl_allow;
	long interval_ms;
};

#define OPT(n, t, f, lo, hi, h) { n, 0, t, offsetof(struct ovl_raw, f), lo, hi, NULL, h }
static const struct conf_option ovl_options[] = {
	OPT("name", CONF_STR, name, 0, 0, "the node's name"),
	OPT("mac", CONF_STR, mac, 0, 0, "the service NIC's MAC"),
	OPT("host_url", CONF_STR, host_url, 0, 0, "snowd's URL"),
	OPT("secret", CONF_STR, secret, 0, 0, "the node's signing secret"),
	OPT("interval_ms", CONF_INT, interval_ms, 100, 3600000, "report interval"),
	OPT("sysctl.allow", CONF_STR, sysctl_allow, 0, 0, "sysctls the host may set"),
	{ 0 },
};
#undef OPT

/* "threshold.VALUE = KIND RISE CLEAR SAMPLES" into c->thr.  @ret 0 or -EINVAL. */
static int ovl_threshold(struct ovl_conf *c, const char *key, const char *val, char *err,
			 size_t errlen)
{
	const char *name = key + strlen("threshold.");
	char kind[8], msg[200];
	double rise, clear;
	unsigned samples = 1;
	enum instr_thr_kind k;
	int n = 0;

	if (instr_name_check(name, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", key, msg);
		return -EINVAL;
	}
	if (sscanf(val, "%7s %lf %lf %u %n", kind, &rise, &clear, &samples, &n) < 3 ||
	    (n && val[n]) || instr_thr_kind_parse(kind, &k)) {
		snprintf(err, errlen, "%s: '%.64s' is not 'high|low RISE CLEAR [SAMPLES]'", key, val);
		return -EINVAL;
	}
	if (c->nthr == OVL_THR_MAX) {
		snprintf(err, errlen, "%s: more than %d thresholds", key, OVL_THR_MAX);
		return -EINVAL;
	}
	if (threshold_set(&c->thr[c->nthr], name, k, rise, clear, samples, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", key, msg);
		return -EINVAL;
	}
	c->nthr++;
	return 0;
}

static char *ovl_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Copy a checked string into a fixed field.  @ret 0 or -EINVAL (too long). */
static int ovl_copy(char *dst, size_t cap, const char *src, const char *key, char *err,
		    size_t errlen)
{
	if (strlen(src) >= cap) {
		snprintf(err, errlen, "node.conf: %s: longer than %zu characters", key, cap - 1);
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int ovl_conf_check(struct ovl_raw *r, struct ovl_conf *c, char *err, size_t errlen)
{
	struct hostlist u;
	char msg[256];

	if (!r->name || !r->mac || !r->host_url || !r->secret) {
		snprintf(err, errlen, "node.conf: %s: missing",
			 !r->name ? "name" : !r->mac ? "mac" : !r->host_url ? "host_url" : "secret");
		return -EINVAL;
	}
	if (valid_name(r->name, msg, sizeof(msg)) || valid_mac(r->mac, c->mac, msg, sizeof(msg)) ||
	    hostlist_parse(r->host_url, &u, msg, sizeof(msg))) {
		snprintf(err, errlen, "node.conf: %s", msg);
		return -EINVAL;
	}
	if (strlen(r->secret) != SIGN_SECRET_HEX_LEN ||
	    strspn(r->secret, "0123456789abcdef") != SIGN_SECRET_HEX_LEN) {
		/* Never echo the secret itself. */
		snprintf(err, errlen, "node.conf: secret: must be %d lowercase hex digits",
			 SIGN_SECRET_HEX_LEN);
		return -EINVAL;
	}
	if (ovl_copy(c->name, sizeof(c->name), r->name, "name", err, errlen) ||
	    ovl_copy(c->host_url, sizeof(c->host_url), r->host_url, "host_url", err, errlen) ||
	    ovl_copy(c->sysctl_allow, sizeof(c->sysctl_allow),
		     r->sysctl_allow ? r->sysctl_allow : "", "sysctl.allow", err, errlen))
		return -EINVAL;
	memcpy(c->secret, r->secret, SIGN_SECRET_HEX_LEN + 1);
	c->interval_ms = r->interval_ms;
	return 0;
}

int ovl_conf_parse(const char *text, size_t len, struct ovl_conf *c, char *err, size_t errlen)
{
	struct ovl_raw raw = { 0 };
	char line[OVL_LINE_MAX + 1];
	size_t off = 0;
	int lineno = 0, rc = 0;

	memset(c, 0, sizeof(*c));
	while (off < len && !rc) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - text - off) : len - off;
		char *key, *eq, *val, msg[256];

		lineno++;
		if (n > OVL_LINE_MAX) {
			snprintf(err, errlen, "node.conf:%d: line longer than %d bytes", lineno,
				 OVL_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, "node.conf:%d: NUL byte", lineno);
			rc = -EINVAL;
			break;
		}
		key = ovl_trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "node.conf:%d: not 'key = value'", lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		val = ovl_trim(eq + 1);
		key = ovl_trim(key);
		if (!strncmp(key, "threshold.", 10)) {
			rc = ovl_threshold(c, key, val, msg, sizeof(msg));
			if (rc)
				snprintf(err, errlen, "node.conf:%d: %s", lineno, msg);
			continue;
		}
		rc = conf_set(ovl_options, &raw, key, val, msg, sizeof(msg));
		if (rc == -ENOENT) {
			/* snowd may add keys (env.*, threshold.*) before nodesim knows them. */
			rc = 0;
		} else if (rc) {
			snprintf(err, errlen, "node.conf:%d: %s", lineno, msg);
		}
	}
	if (!rc)
		rc = ovl_conf_check(&raw, c, err, errlen);
	if (raw.secret)
		explicit_bzero(raw.secret, strlen(raw.secret));
	explicit_bzero(line, sizeof(line));
	conf_free(ovl_options, &raw);
	if (rc)
		explicit_bzero(c->secret, sizeof(c->secret));
	return rc;
}

int ovl_sysctl_allowed(const struct ovl_conf *c, const char *name)
{
	const char *p = c->sysctl_allow;
	size_t n = strlen(name);

	while (*p) {
		size_t len;
		while (*p == ',' || *p == ' ')
			p++;
		len = strcspn(p, ", ");
		if (len == n && n && !strncmp(p, name, n))
			return 1;
		p += len;
	}
	return 0;
}

int ovl_parse(const void *data, size_t len, struct ovl_conf *c, char *err, size_t errlen)
{
	const void *conf;
	size_t clen;
	int rc;

	rc = ovl_cpio_find(data, len, OVL_CONF_PATH, &conf, &clen, err, errlen);
	if (rc)
		return rc;
	return ovl_conf_parse(conf, clen, c, err, errlen);
}

/*
 * What a simulated node reads from the overlay snowd serves it
 * (GET /boot/MAC/overlay.cpio): the newc cpio, and etc/snow/node.conf in it.
 * Both parsers take bytes from the network, so every length and field is
 * checked before use; nothing is allocated that the caller must free.
 */
#ifndef SNOW_NODESIM_OVL_H
#define SNOW_NODESIM_OVL_H

#include <stddef.h>

#include "instr.h"
#include "sign.h"
#include "valid.h"

#define OVL_CONF_PATH "etc/snow/node.conf"
#define OVL_URL_MAX 255
#define OVL_ALLOW_MAX 511
#define OVL_THR_MAX 8

/* node.conf, checked: every string is NUL-terminated and well formed. */
struct ovl_conf {
	char name[SNOW_NAME_MAX + 1];
	char mac[SNOW_MAC_STRLEN + 1];          /* canonical lowercase, ':' */
	char host_url[OVL_URL_MAX + 1];
	char secret[SIGN_SECRET_HEX_LEN + 1];
	long interval_ms;                       /* 0 when the file has none */
	char sysctl_allow[OVL_ALLOW_MAX + 1];   /* "vm.swappiness,..." or empty */
	/* threshold.VALUE = KIND RISE CLEAR SAMPLES lines: set at boot, checked. */
	struct instr_threshold thr[OVL_THR_MAX];
	size_t nthr;
};

/*
 * Find the regular file path (without a leading "/" or "./") in a newc cpio
 * archive of len bytes: lib/cpio.h's cpio_find(), the reader the agent uses
 * too.  *out points into data (borrowed), *outlen is its size.
 * @ret 0; -ENOENT when the archive has no such file; -EINVAL when the archive
 * is malformed (bad magic, a field not eight hex digits, a length past the
 * end, a name without its NUL, no trailer), with err saying where.
 */
int ovl_cpio_find(const void *data, size_t len, const char *path, const void **out,
		  size_t *outlen, char *err, size_t errlen);

/*
 * Parse node.conf text ("key = value" lines, '#' comments) through one option
 * table, then check it: name, mac, host_url and secret are required;
 * interval_ms 100..3600000; threshold.VALUE lines as threshold_check()
 * and threshold_set() judge them, at most OVL_THR_MAX; other keys snowd
 * may add later (env.*) are ignored.
 * @ret 0 or -EINVAL with err naming the line or field.
 */
int ovl_conf_parse(const char *text, size_t len, struct ovl_conf *c, char *err, size_t errlen);

/* Is name on the comma-separated allow list? */
int ovl_sysctl_allowed(const struct ovl_conf *c, const char *name);

/*
 * Both steps: the overlay's bytes to a checked node.conf.
 * @ret 0, or the error of either step with err filled.
 */
int ovl_parse(const void *data, size_t len, struct ovl_conf *c, char *err, size_t errlen);

#endif

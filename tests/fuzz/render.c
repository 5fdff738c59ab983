/*
 * Settings an admin sets, rendered into a node's iPXE script and node.conf
 * (host/boot.c), as snowd does after settings_check() accepted them.  A
 * value must never add a line: a newline in a kernel argument would be an
 * iPXE command, one in an env value a node.conf key of its own.  So the
 * script has as many lines as with plain settings, and every node.conf
 * line is "key = value" with a key of its own kinds.  The overlay of a
 * whole-system image renders too, and its compute NIC file (from env
 * SNOW_NIC_*) has only "[Section]", "Key=value" and comment lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "boot.h"
#include "settings.h"

/* The data of file name in a newc cpio, or NULL. */
static const char *cpio_file(const struct buf *b, const char *name, size_t *len)
{
	size_t nl = strlen(name) + 1, i;
	char hex[9] = { 0 };

	for (i = 110; i + nl <= b->len; i++) {
		if (memcmp(b->data + i, name, nl) || memcmp(b->data + i - 110, "070701", 6))
			continue;
		memcpy(hex, b->data + i - 110 + 54, 8);
		*len = strtoul(hex, NULL, 16);
		i = (i + nl + 3) & ~(size_t)3;
		return i + *len <= b->len ? b->data + i : NULL;
	}
	return NULL;
}

static size_t lines(const struct buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct boot_params p = { .base_url = "http://10.0.0.1:8080", .cmdline = "console=ttyS0",
				       .interval_ms = 2000, .unknown_retry_s = 10 };
	struct inv_node n = { .id = 1 };
	struct buf plain = BUF_INIT, out = BUF_INIT, conf = BUF_INIT;
	json_t *set = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *eff, *none;
	char err[300];
	size_t i;

	if (!set || !json_is_object(set) || settings_check(set, 0, err, sizeof(err))) {
		json_decref(set);
		return 0;
	}
	snprintf(n.name, sizeof(n.name), "node1");
	snprintf(n.mac, sizeof(n.mac), "52:54:00:12:34:56");
	snprintf(n.ip, sizeof(n.ip), "10.0.0.11");
	snprintf(n.image, sizeof(n.image), "default");
	none = json_object();
	eff = settings_effective(set, NULL, NULL, none, NULL);
	if (eff && !boot_render_node(&p, &n, none, &plain, err, sizeof(err)) &&
	    !boot_render_node(&p, &n, eff, &out, err, sizeof(err)) && lines(&out) != lines(&plain)) {
		fprintf(stderr, "the script has %zu lines, %zu with plain settings\n", lines(&out),
			lines(&plain));
		abort();
	}
	if (eff && !boot_render_node_conf(&p, &n, eff, &conf)) {
		for (i = 0; i < conf.len;) {
			const char *l = conf.data + i, *nl = memchr(l, '\n', conf.len - i);
			size_t len = nl ? (size_t)(nl - l) : conf.len - i;
			const char *eq = memchr(l, '=', len);
			if (len && l[0] != '#' && (!eq || eq == l)) {
				fprintf(stderr, "node.conf line without 'key =': '%.*s'\n", (int)len, l);
				abort();
			}
			i += len + 1;
		}
	}
	if (eff) {
		static struct overlay_file files[] = {
			{ "etc/motd", "{{name}} {{mac}} {{ip}} {{image}} {{profile}} {{host_url}}\n", 0644 },
		};
		static const struct overlay_set tset = { files, 1 };
		struct boot_params ps = p;
		struct buf ov = BUF_INIT;
		const char *net;
		size_t len;
		ps.whole_system = 1;
		ps.hosts = "10.0.0.11\tnode1\n";
		ps.tmpls = &tset;
		if (boot_render_overlay(&ps, &n, eff, &ov)) {
			fprintf(stderr, "a whole-system overlay failed to render\n");
			abort();
		}
		net = cpio_file(&ov, "etc/snow/overlay/etc/systemd/network/20-snow-compute.network", &len);
		for (i = 0; net && i < len;) {
			const char *l = net + i, *nl = memchr(l, '\n', len - i);
			size_t ll = nl ? (size_t)(nl - l) : len - i;
			if (ll && l[0] != '#' && l[0] != '[' && (!memchr(l, '=', ll) || memchr(l, ' ', ll))) {
				fprintf(stderr, "compute NIC line '%.*s'\n", (int)ll, l);
				abort();
			}
			i += ll + 1;
		}
		buf_free(&ov);
	}
	buf_free(&plain);
	buf_free(&out);
	buf_free(&conf);
	json_decref(eff);
	json_decref(none);
	json_decref(set);
	return 0;
}

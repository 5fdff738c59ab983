#include "boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpio.h"
#include "firmware_templates.h"
#include "tmpl.h"

void boot_mac_url(const char *mac, char out[SNOW_MAC_STRLEN + 1])
{
	size_t i;

	snprintf(out, SNOW_MAC_STRLEN + 1, "%s", mac);
	for (i = 0; out[i]; i++)
		if (out[i] == ':')
			out[i] = '-';
}

int boot_render_first(const struct boot_params *p, struct buf *out, char *err, size_t errlen)
{
	const struct tmpl_var v[] = { { "base", p->base_url } };

	return tmpl_render(fw_first_ipxe, v, 1, out, err, errlen);
}

int boot_render_node(const struct boot_params *p, const struct inv_node *n, json_t *eff,
		     struct buf *out, char *err, size_t errlen)
{
	const char *image = json_string_value(json_object_get(eff, "image"));
	const char *extra = json_string_value(json_object_get(eff, "cmdline"));
	char mac_url[SNOW_MAC_STRLEN + 1], cmdline[2200];

	boot_mac_url(n->mac, mac_url);
	/* snow.mac tells /init which interface is the service NIC; snow.image which
	 * image (and version) a whole-system initrd fetches its root from. */
	snprintf(cmdline, sizeof(cmdline), "%s%s%s snow.mac=%s snow.image=%s", p->cmdline,
		 extra && *extra ? " " : "", extra ? extra : "", n->mac, image ? image : n->image);
	const struct tmpl_var v[] = {
		{ "base", p->base_url },
		{ "name", n->name },
		{ "mac", n->mac },
		{ "mac_url", mac_url },
		{ "image", image ? image : n->image },
		{ "cmdline", cmdline },
	};
	return tmpl_render(fw_node_ipxe, v, sizeof(v) / sizeof(v[0]), out, err, errlen);
}

int boot_render_unknown(const struct boot_params *p, const char *mac, struct buf *out, char *err,
			size_t errlen)
{
	char mac_url[SNOW_MAC_STRLEN + 1], retry[16];

	boot_mac_url(mac, mac_url);
	snprintf(retry, sizeof(retry), "%d", p->unknown_retry_s);
	const struct tmpl_var v[] = {
		{ "base", p->base_url }, { "mac", mac }, { "mac_url", mac_url }, { "retry", retry },
	};
	return tmpl_render(fw_unknown_ipxe, v, sizeof(v) / sizeof(v[0]), out, err, errlen);
}

int boot_render_node_conf(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			  struct buf *out)
{
	json_t *iv = json_object_get(eff, "interval_ms"), *v;
	const char *k;
	size_t i;
	int rc;

	rc = buf_printf(out,
			"# Snow node configuration for %s, written by snowd.\n"
			"name = %s\n"
			"mac = %s\n"
			"host_url = %s\n"
			"secret = %s\n"
			"interval_ms = %lld\n",
			n->name, n->name, n->mac, p->base_url, n->secret,
			iv ? (long long)json_integer_value(iv) : (long long)p->interval_ms);
	/* Values were checked by settings_check(): no newlines can reach here. */
	json_object_foreach(json_object_get(eff, "env"), k, v)
		if (!rc)
			rc = buf_printf(out, "env.%s = %s\n", k, json_string_value(v));
	json_array_foreach(json_object_get(eff, "thresholds"), i, v) {
		json_t *samples = json_object_get(v, "samples");
		if (rc)
			break;
		rc = buf_printf(out, "threshold.%s = %s %.17g %.17g %lld\n",
				json_string_value(json_object_get(v, "value")),
				json_string_value(json_object_get(v, "kind")),
				json_number_value(json_object_get(v, "rise")),
				json_number_value(json_object_get(v, "clear")),
				samples ? (long long)json_integer_value(samples) : 1LL);
	}
	return rc;
}

/* The environment for shells on the node, in single quotes (settings_check() keeps them out of values). */
static int boot_render_env(json_t *eff, struct buf *out)
{
	const char *k;
	json_t *v;
	int rc = buf_puts(out, "# Environment from snowd (the node's env setting).\n");

	json_object_foreach(json_object_get(eff, "env"), k, v) {
		const char *s = json_string_value(v);
		if (rc)
			break;
		rc = buf_printf(out, "export %s='%s'\n", k, s);
	}
	return rc;
}

int boot_render_overlay(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			struct buf *out)
{
	struct buf conf = BUF_INIT, env = BUF_INIT;
	char hostname[SNOW_NAME_MAX + 2];
	int rc;

	snprintf(hostname, sizeof(hostname), "%s\n", n->name);
	rc = boot_render_node_conf(p, n, eff, &conf);
	if (!rc)
		rc = boot_render_env(eff, &env);
	if (!rc)
		rc = cpio_add_dir(out, "etc", 0755);
	if (!rc)
		rc = cpio_add_file(out, "etc/hostname", 0644, hostname, strlen(hostname));
	if (!rc)
		rc = cpio_add_dir(out, "etc/snow", 0700);
	if (!rc)
		rc = cpio_add_file(out, "etc/snow/node.conf", 0600, conf.data, conf.len);
	if (!rc)
		rc = cpio_add_file(out, "etc/snow/env", 0644, env.data, env.len);
	if (!rc)
		rc = cpio_finish(out);
	buf_free(&env);
	/* The secret was in conf: do not leave it in freed memory. */
	if (conf.data)
		explicit_bzero(conf.data, conf.len);
	buf_free(&conf);
	return rc;
}

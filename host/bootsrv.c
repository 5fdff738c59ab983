/* The boot routes (bootsrv.h). */
#include "bootsrv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "boot.h"
#include "clock.h"
#include "images.h"
#include "klog.h"
#include "log.h"
#include "nodes.h"
#include "snowd.h"
#include "valid.h"
#include "wire.h"

/* A boot file fetched from a node's own address is one of its boot stages. */
static void bootsrv_stage_by_ip(struct http_ctx *h, const char *stage)
{
	struct inv_node n;

	if (!inv_node_get_by_ip(&h->sd->inv, h->client_ip, &n))
		nodes_stage(h->sd, &n, stage);
}

enum MHD_Result bootsrv_first(struct http_ctx *h)
{
	struct buf out = BUF_INIT;
	char err[256];

	bootsrv_stage_by_ip(h, "first");
	if (boot_render_first(&h->sd->boot, &out, err, sizeof(err)))
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	return http_text(h, "text/plain", &out);
}

enum MHD_Result bootsrv_image(struct http_ctx *h)
{
	const char *ref = h->param[0], *file = h->param[1];
	char path[8192];

	if (images_path(h->sd, ref, file, path, sizeof(path)))
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: no such image file", h->url);
	bootsrv_stage_by_ip(h, !strcmp(file, "vmlinuz") ? "kernel" :
			    !strcmp(file, "initrd") ? "initrd" : "rootfs");
	return http_file(h, path, "application/octet-stream", 0);
}

/* The node of the route's {mac}.  @ret 0, -ENOENT, or -EIO (answered: *ret). */
static int bootsrv_node(struct http_ctx *h, struct inv_node *n, char mac[SNOW_MAC_STRLEN + 1])
{
	/* The router checked it: this only brings it to the inventory's form. */
	if (valid_mac(h->param[0], mac, NULL, 0))
		return -ENOENT;
	return inv_node_get_by_mac(&h->sd->inv, mac, n);
}

enum MHD_Result bootsrv_script(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	char mac[SNOW_MAC_STRLEN + 1], err[256], ref[SNOW_NAME_MAX + INV_VERSION_LEN + 2];
	struct buf out = BUF_INIT;
	struct inv_node n;
	json_t *eff;
	int rc = bootsrv_node(h, &n, mac);

	if (rc == -ENOENT) {
		if (inv_discovered_seen(&sd->inv, mac, h->client_ip, (int64_t)time(NULL)))
			log_warnx("boot: cannot record discovered %s", mac);
		log_info("boot: unknown MAC %s (%s) asked for its script: listed as discovered", mac,
			 h->client_ip);
		if (boot_render_unknown(&sd->boot, mac, &out, err, sizeof(err)))
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
		return http_text(h, "text/plain", &out);
	}
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	eff = nodes_effective(sd, &n, NULL);
	/* Name the image's current version, so a rebuild cannot change it under the boot. */
	if (eff && !images_ref(sd, json_string_value(json_object_get(eff, "image")), ref, sizeof(ref)))
		json_object_set_new(eff, "image", json_string(ref));
	if (!strcmp(h->client_ip, n.ip)) {
		struct node_rt *rt = nodes_rt(sd, n.id, n.name);
		nodes_stage(sd, &n, "script");
		if (rt)
			rt->overlay_window_ms = clock_mono_ms() + BOOT_OVERLAY_WINDOW_MS;
	} else {
		/* Anyone may read a script (it holds no secret), but it is not the node booting. */
		log_info("boot: script of %s asked by %s, not by its address %s: no boot stage",
			 n.name, h->client_ip, n.ip);
	}
	klog_target_refresh(sd);
	rc = eff ? boot_render_node(&sd->boot, &n, eff, &out, err, sizeof(err)) : -EIO;
	json_decref(eff);
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "script: %s",
				  eff ? err : "inventory error");
	return http_text(h, "text/plain", &out);
}

enum MHD_Result bootsrv_overlay(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	char mac[SNOW_MAC_STRLEN + 1];
	struct buf out = BUF_INIT;
	struct inv_node n;
	struct node_rt *rt;
	const char *data;
	size_t len;
	int rc = bootsrv_node(h, &n, mac);

	if (rc == -ENOENT)
		return http_error(h, MHD_HTTP_NOT_FOUND, "mac: %s is not a node", mac);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	/* The overlay holds the node's secret: only the node's own address gets it. */
	if (strcmp(h->client_ip, n.ip)) {
		explicit_bzero(n.secret, sizeof(n.secret));
		explicit_bzero(n.old_secret, sizeof(n.old_secret));
		log_warnx("boot: overlay of %s asked by %s, not by its address %s: refused", n.name,
			  h->client_ip, n.ip);
		return http_error(h, MHD_HTTP_FORBIDDEN, "overlay: only %s may fetch it", n.ip);
	}
	rt = nodes_rt(sd, n.id, n.name);
	if (!rt || !rt->overlay_window_ms || clock_mono_ms() > rt->overlay_window_ms) {
		explicit_bzero(n.secret, sizeof(n.secret));
		explicit_bzero(n.old_secret, sizeof(n.old_secret));
		log_warnx("boot: overlay of %s asked by %s outside a boot window: refused", n.name,
			  h->client_ip);
		return http_error(h, MHD_HTTP_FORBIDDEN,
				  "overlay: served once per boot, after GET /boot/%s.ipxe from %s "
				  "(the agent uses POST %s)", h->param[0], n.ip, WIRE_PATH_OVERLAY);
	}
	/* Once per boot: the first fetch closes the window. */
	rt->overlay_window_ms = 0;
	nodes_stage(sd, &n, "overlay");
	rc = nodes_overlay(sd, &n, &data, &len);
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (rc || buf_append(&out, data, len)) {
		buf_free(&out);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "overlay: cannot build");
	}
	return http_text(h, "application/octet-stream", &out);
}

/* What /init may say about its root, and the boot stage each one is. */
static const struct {
	const char *state, *stage;
} bootsrv_rootfs_states[] = {
	{ "verified", "rootfs_verified" },
	{ "mounted", "rootfs_mounted" },
	{ "failed", "rootfs_failed" },
};

enum MHD_Result bootsrv_rootfs(struct http_ctx *h)
{
	const char *state = h->param[1], *stage = NULL, *why = http_query(h, "why");
	char mac[SNOW_MAC_STRLEN + 1], reason[128];
	struct buf out = BUF_INIT;
	struct inv_node n;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bootsrv_rootfs_states) / sizeof(bootsrv_rootfs_states[0]); i++)
		if (!strcmp(state, bootsrv_rootfs_states[i].state))
			stage = bootsrv_rootfs_states[i].stage;
	if (!stage)
		return http_error(h, MHD_HTTP_NOT_FOUND,
				  "state: '%s' is not verified, mounted or failed", state);
	rc = bootsrv_node(h, &n, mac);
	if (rc == -ENOENT)
		return http_error(h, MHD_HTTP_NOT_FOUND, "mac: %s is not a node", mac);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (strcmp(h->client_ip, n.ip))
		return http_error(h, MHD_HTTP_FORBIDDEN, "rootfs: only %s may report its stages", n.ip);
	/* The reason goes to the log: printable ASCII only, cut short. */
	for (i = 0; why && why[i] && i < sizeof(reason) - 1; i++)
		reason[i] = why[i] >= 0x20 && why[i] < 0x7f ? why[i] : '?';
	reason[why ? i : 0] = '\0';
	nodes_stage(h->sd, &n, stage);
	if (!strcmp(state, "failed"))
		log_warnx("boot: node %s: root filesystem failed: %s", n.name,
			  reason[0] ? reason : "(no reason given)");
	else
		log_info("boot: node %s: root filesystem %s", n.name, state);
	if (buf_puts(&out, "ok\n"))
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return http_text(h, "text/plain", &out);
}

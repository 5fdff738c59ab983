/*
 * What snowd hands to a booting node: the first-stage iPXE script, the
 * per-node script, the script for an unknown MAC, and the per-node overlay
 * (a newc cpio the kernel unpacks over the base initramfs).  Pure functions
 * of their inputs, so golden-file tests pin their exact output.
 */
#ifndef SNOW_BOOT_H
#define SNOW_BOOT_H

#include <jansson.h>

#include "buf.h"
#include "inv.h"
#include "overlay.h"

struct boot_params {
	const char *base_url;  /* "http://10.77.0.1:8080", no trailing '/' */
	const char *host_urls; /* node.conf's host_url: base_url, then other snowd's (NULL: base_url) */
	const char *cmdline;   /* kernel arguments every node gets */
	int interval_ms;       /* report interval written to node.conf */
	int unknown_retry_s;   /* how long an unknown MAC waits before asking again */
	/*
	 * For whole-system images (snow-image): each node's SSH host key is made
	 * once into ssh_dir/NAME/ and kept there, so a node keeps its identity
	 * across reboots; authorized_keys is the admin's public keys file.  NULL
	 * (the golden tests) or a missing file: none in the overlay.
	 */
	const char *ssh_dir;
	const char *authorized_keys;
	/*
	 * netconsole's target (klog.h): with klog_port, a node with an address
	 * gets netconsole=+@IP/,PORT@HOST/MAC (MAC NULL: broadcast).  The device
	 * is left out: /init names the service NIC when it loads the module.
	 */
	const char *klog_host;
	int klog_port;
	const char *klog_mac;
	/*
	 * Whole-system images only (whole_system set): hosts is the cluster's
	 * /etc/hosts (every node's address and name; NULL: none), tmpls the
	 * admin's templates (overlay.h; NULL: none).  Both, and the compute NIC's
	 * systemd-networkd file, go under etc/snow/overlay/.
	 */
	int whole_system;
	const char *hosts;
	const struct overlay_set *tmpls;
};

/* Each renders into out (appending).  @ret 0 or -errno with err filled. */
int boot_render_first(const struct boot_params *p, struct buf *out, char *err, size_t errlen);
/* eff: the node's effective settings (settings.h; borrowed): image and cmdline. */
int boot_render_node(const struct boot_params *p, const struct inv_node *n, json_t *eff,
		     struct buf *out, char *err, size_t errlen);
int boot_render_unknown(const struct boot_params *p, const char *mac, struct buf *out, char *err,
			size_t errlen);
/*
 * node.conf as the agent reads it (it holds the node's secret), with the
 * interval, env.NAME and threshold.VALUE lines from eff (borrowed).
 */
int boot_render_node_conf(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			  struct buf *out);
/*
 * The overlay cpio: /etc/hostname, /etc/snow/node.conf (0600), and
 * /etc/snow/env (the environment as shell "export NAME='value'" lines).
 * With p->ssh_dir or p->authorized_keys, also /etc/snow/overlay/, a tree a
 * whole-system image's /init copies over its root: etc/ssh/ssh_host_ed25519_key
 * (+ .pub) and root/.ssh/authorized_keys.  With p->whole_system, in the same
 * tree: etc/hosts (p->hosts), etc/profile.d/snow-env.sh (login shells get
 * /etc/snow/env), etc/systemd/network/20-snow-compute.network (the compute
 * NIC of env SNOW_NIC_MAC: SNOW_NIC_MTU, SNOW_NIC_ADDR, no DHCP) and each of
 * the admin's templates (p->tmpls) at its path.  @ret 0 or -errno (a host
 * key that cannot be made fails the overlay: the node would change identity).
 */
int boot_render_overlay(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			struct buf *out);

/* "52:54:00:12:34:56" -> "52-54-00-12-34-56", the form iPXE puts in URLs. */
void boot_mac_url(const char *mac, char out[SNOW_MAC_STRLEN + 1]);

#endif

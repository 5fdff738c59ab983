/*
 * The boot routes iPXE fetches (route.c serves them on the boot address
 * only): the first-stage script, each node's script and overlay, image files.
 * Each fetch from a node's address is one of its boot stages (nodes.h).
 */
#ifndef SNOW_BOOTSRV_H
#define SNOW_BOOTSRV_H

#include "http.h"

/*
 * The overlay holds the node's secret: it is served once per boot, inside
 * the window the node's own GET /boot/{mac}.ipxe opened (from its own
 * address), for this long.  Later fetches (the agent's config.reload) go
 * through the signed node channel (chan.h's POST /api/v1/node/overlay).
 */
#define BOOT_OVERLAY_WINDOW_MS 120000

/* GET /boot/first.ipxe */
enum MHD_Result bootsrv_first(struct http_ctx *h);
/*
 * GET /boot/{mac}.ipxe: the node's script; an unknown MAC is listed as
 * discovered.  Asked from the node's own address, it is a boot stage and
 * opens the overlay's window; from another address it is neither.
 */
enum MHD_Result bootsrv_script(struct http_ctx *h);
/*
 * GET /boot/{mac}/overlay.cpio: to the node's own address only (it holds its
 * secret), once, inside the window its script request opened.
 */
enum MHD_Result bootsrv_overlay(struct http_ctx *h);
/*
 * GET /boot/images/{ref}/{file}: vmlinuz, initrd, or a whole-system image's
 * rootfs.squashfs (stage "rootfs": the node's /init fetches it).
 */
enum MHD_Result bootsrv_image(struct http_ctx *h);
/*
 * GET /boot/{mac}/rootfs/{state}?why=TEXT: /init of a whole-system image
 * tells how its root went: verified (the squashfs matched the digest in its
 * initrd), mounted (overlay ready, switching to systemd) or failed (why says
 * why; it retries with a back-off).  From the node's own address only; each
 * is a boot stage (rootfs_verified, rootfs_mounted, rootfs_failed).
 */
enum MHD_Result bootsrv_rootfs(struct http_ctx *h);

#endif

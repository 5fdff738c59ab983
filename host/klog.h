/*
 * Kernel logs (docs/crash.md).  Every node's kernel sends its messages by
 * netconsole to snowd's UDP port (--klog-listen); snowd keeps them per node
 * and per boot under STATE/klog/NODE/BOOT.log (0600, at most --klog-boot-max
 * bytes a boot with one older part BOOT.log.1, the last --klog-boots-keep
 * boots: bootlog.h), and serves them at
 * GET /api/v1/nodes/NAME/boots/BOOT/kernel-log (BOOT "current": the boot
 * under way).  A datagram counts only from the node's own address and within
 * its rate (--klog-rate a second, bursts of twice that); the rest is dropped
 * and counted (/metrics).
 *
 * A boot is named by its agent's boot id once the agent registers; before
 * that (and for a boot that never gets there) by "early-MS", MS the time its
 * first line came.  A new boot starts when the node fetches its iPXE script
 * or when the kernel's record numbers start over.
 *
 * A panic in those lines is kept as a crash event: klog_crash.h.
 */
#ifndef SNOW_KLOG_H
#define SNOW_KLOG_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

#include "buf.h"

struct snowd;
struct http_ctx;
struct klog;

/*
 * Bind the UDP socket (sd->cfg.klog_listen; "none": no socket, the rest still
 * serves what is kept) and make STATE/klog.  @ret a new klog (klog_free()),
 * or NULL with err filled.
 */
struct klog *klog_new(struct snowd *sd, char *err, size_t errlen);
void klog_free(struct klog *k);
/* The socket to poll, or -1. */
int klog_fd(const struct klog *k);
/* Read the datagrams waiting (at most a few hundred a call, so the loop stays fair). */
void klog_input(struct snowd *sd);
/* Node node_id (name) fetched its boot script: a new boot begins. */
void klog_boot_start(struct snowd *sd, int64_t node_id, const char *name);
/* Its agent registered boot_id: the boot under way takes that name. */
void klog_registered(struct snowd *sd, int64_t node_id, const char *name, const char *boot_id);
/* The boot before the one under way, as netconsole saw them (NULL: none seen).  Borrowed. */
const char *klog_prev_boot(struct snowd *sd, int64_t node_id);
/* The node is gone: its run-time state (not its files). */
void klog_forget(struct klog *k, int64_t node_id);
/*
 * Read the boot interface's MAC again (netconsole's target; a bridge's
 * changes as ports come and go): before each boot script is rendered.
 */
void klog_target_refresh(struct snowd *sd);
/* /metrics lines.  @ret 0 or -ENOMEM. */
int klog_metrics(const struct klog *k, struct buf *b);
/*
 * POST /boot/{mac}/dmesg: /init's copy of what the kernel said before
 * netconsole was loaded, once a boot, from the node's own address.
 */
enum MHD_Result klog_boot_dmesg(struct http_ctx *h);
/* GET /api/v1/nodes/{node}/boots/{boot}/kernel-log */
enum MHD_Result klog_api_get(struct http_ctx *h);

#endif

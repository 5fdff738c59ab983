/*
 * QMP events of virtual nodes: for every node whose power setting names an
 * events socket ({"driver": "qmp", "socket": ..., "events": PATH}), snowd
 * keeps a connection to that second QMP monitor of its QEMU and turns
 * GUEST_PANICKED (a pvpanic device) and WATCHDOG (the emulated watchdog
 * fired) into crash signals (klog_crash_signal()).  The power driver keeps
 * its own socket: a QMP monitor serves one client at a time.  Connections
 * are tried again every few seconds while the VM is away; nothing blocks.
 */
#ifndef SNOW_QMPEV_H
#define SNOW_QMPEV_H

#include <stdint.h>

struct snowd;
struct qmpev;

/*
 * Nodes' settings are read again at once after a change (settings_gen), and
 * else this seldom: a scan reads every node's settings (1000 nodes: tens of ms).
 */
#define QMPEV_SCAN_MS 300000
/* A socket that would not connect, or closed, is tried again after this. */
#define QMPEV_RETRY_MS 3000

/* @ret a new qmpev (qmpev_free()), or NULL (errno says why). */
struct qmpev *qmpev_new(void);
void qmpev_free(struct qmpev *q);
/* An epoll set of the connections, to poll for input. */
int qmpev_fd(const struct qmpev *q);
/* Read what the connections have. */
void qmpev_input(struct snowd *sd);
/* Follow the nodes' settings; connect the sockets that are not. */
void qmpev_tick(struct snowd *sd);

#endif

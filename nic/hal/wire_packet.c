#include "wire_packet.h"

#include "fw/frame.h"
#include "fw/sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct wire_packet {
	int fd;
	int v3;
	uint8_t mac[6];
	uint32_t mtu;
	uint8_t *ring;
	size_t ring_size;
	uint32_t block_size, nblocks, frame_size, nframes;
	uint32_t cur; /* next frame (V2) or block (V3) */
	_Atomic uint64_t drops, truncated; /* read from another thread */
};

static uint32_t round_up(uint32_t v, uint32_t to) { return (v + to - 1) / to * to; }

int wire_packet_open(const char *ifname, int v3, size_t ring_bytes, struct wire_packet **out,
		     char *err, size_t errlen)
{
	struct sockaddr_ll sll = { 0 };
	struct wire_packet *w;
	struct ifreq ifr = { 0 };
	int rc, ver, one = 1;
	uint32_t maxframe;

	if (strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "iface: '%s' is longer than %d bytes", ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->v3 = v3;
	w->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(SNF_ETHERTYPE));
	if (w->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
		goto err_free;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(w->fd, SIOCGIFINDEX, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "iface %s: %s", ifname, strerror(errno));
		goto err_close;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(SNF_ETHERTYPE);
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(w->fd, SIOCGIFHWADDR, &ifr) < 0 || ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
		rc = errno ? -errno : -EINVAL;
		snprintf(err, errlen, "iface %s: not an Ethernet interface", ifname);
		goto err_close;
	}
	memcpy(w->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(w->fd, SIOCGIFMTU, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "iface %s: MTU: %s", ifname, strerror(errno));
		goto err_close;
	}
	w->mtu = (uint32_t)ifr.ifr_mtu;
	maxframe = w->mtu + SNF_ETH_HLEN;

	if (!ring_bytes) {
		/* No ring: the receiver copies each frame out of the socket itself. */
		int rcvbuf = 16 << 20;
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
		goto bind;
	}
	ver = v3 ? TPACKET_V3 : TPACKET_V2;
	if (setsockopt(w->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "PACKET_VERSION: %s", strerror(errno));
		goto err_close;
	}
	if (v3) {
		struct tpacket_req3 req = { 0 };
		w->block_size = round_up(maxframe + 4096, 1u << 20);
		w->nblocks = (uint32_t)(ring_bytes / w->block_size);
		if (w->nblocks < 4)
			w->nblocks = 4;
		w->frame_size = 2048;
		req.tp_block_size = w->block_size;
		req.tp_block_nr = w->nblocks;
		req.tp_frame_size = w->frame_size;
		req.tp_frame_nr = w->block_size / w->frame_size * w->nblocks;
		req.tp_retire_blk_tov = 1; /* ms: the latency price of V3 */
		rc = setsockopt(w->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
	} else {
		struct tpacket_req req = { 0 };
		w->frame_size = round_up(maxframe + 256, 4096);
		w->block_size = w->frame_size * 4;
		w->nblocks = (uint32_t)(ring_bytes / w->block_size);
		if (w->nblocks < 8)
			w->nblocks = 8;
		w->nframes = w->nblocks * 4;
		req.tp_block_size = w->block_size;
		req.tp_block_nr = w->nblocks;
		req.tp_frame_size = w->frame_size;
		req.tp_frame_nr = w->nframes;
		rc = setsockopt(w->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
	}
	if (rc < 0) {
		rc = -errno;
		snprintf(err, errlen, "PACKET_RX_RING (%u blocks of %u): %s", w->nblocks,
			 w->block_size, strerror(errno));
		goto err_close;
	}
	w->ring_size = (size_t)w->block_size * w->nblocks;
	w->ring = mmap(NULL, w->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, w->fd, 0);
	if (w->ring == MAP_FAILED)
		w->ring = mmap(NULL, w->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (w->ring == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "mmap of the %zu-byte ring: %s", w->ring_size, strerror(errno));
		goto err_close;
	}
	/* The ring's pages, touched now rather than by the first frames (see nic_prefault). */
	nic_prefault(w->ring, w->ring_size, 0);
bind:
	/* We are the NIC: our frames need no queueing discipline. */
	setsockopt(w->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind to %s: %s", ifname, strerror(errno));
		goto err_unmap;
	}
	*out = w;
	return 0;

err_unmap:
	if (w->ring)
		munmap(w->ring, w->ring_size);
err_close:
	close(w->fd);
err_free:
	free(w);
	return rc;
}

void wire_packet_close(struct wire_packet *w)
{
	if (!w)
		return;
	if (w->ring)
		munmap(w->ring, w->ring_size);
	close(w->fd);
	free(w);
}

void wire_packet_link(const struct wire_packet *w, uint8_t mac[6], uint32_t *mtu)
{
	memcpy(mac, w->mac, 6);
	*mtu = w->mtu;
}

int wire_packet_fd(const struct wire_packet *w) { return w->fd; }

int wire_packet_send(struct wire_packet *w, const void *frame, size_t len)
{
	return wire_packet_sendv(w, frame, len, NULL, 0);
}

int wire_packet_sendv(struct wire_packet *w, const void *hdr, size_t hlen, const void *payload,
		      size_t plen)
{
	struct timespec pause = { 0, 100000 }; /* 0.1 ms */
	struct iovec iov[2] = { { (void *)hdr, hlen }, { (void *)payload, plen } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = plen ? 2 : 1 };
	ssize_t n;
	int tries = 0;

	/*
	 * A full queue (ENOBUFS, EAGAIN) drains in microseconds; a link without
	 * carrier answers ENOBUFS for ever.  Wait about 100 ms, then say so.
	 */
	while ((n = sendmsg(w->fd, &msg, 0)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != ENOBUFS && errno != EAGAIN)
			return -errno;
		if (++tries > 1000)
			return -ENOBUFS;
		nanosleep(&pause, NULL);
	}
	return (size_t)n == hlen + plen ? 0 : -EIO;
}

static int recv_v2(struct wire_packet *w, wire_rx_fn fn, void *ctx, int max)
{
	int n = 0;

	while (n < max) {
		struct tpacket2_hdr *h =
			(struct tpacket2_hdr *)(w->ring + (size_t)w->cur * w->frame_size);
		struct sockaddr_ll *sll;
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (!(st & TP_STATUS_USER))
			break;
		sll = (struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
		if ((st & TP_STATUS_COPY) || h->tp_snaplen < h->tp_len) {
			atomic_fetch_add(&w->truncated, 1);
		} else if (fn(ctx, (uint8_t *)h + h->tp_mac, h->tp_snaplen, sll->sll_pkttype)) {
			n++;
			w->cur = (w->cur + 1) % w->nframes; /* the caller gives the slot back */
			continue;
		} else {
			n++;
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		w->cur = (w->cur + 1) % w->nframes;
	}
	return n;
}

static int recv_v3(struct wire_packet *w, wire_rx_fn fn, void *ctx)
{
	int n = 0;

	for (;;) {
		struct tpacket_block_desc *b =
			(struct tpacket_block_desc *)(w->ring + (size_t)w->cur * w->block_size);
		struct tpacket3_hdr *h;
		uint32_t st = __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE), i;

		if (!(st & TP_STATUS_USER))
			break;
		h = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < b->hdr.bh1.num_pkts; i++) {
			struct sockaddr_ll *sll =
				(struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
			if (h->tp_snaplen < h->tp_len) {
				atomic_fetch_add(&w->truncated, 1);
			} else {
				(void)fn(ctx, (uint8_t *)h + h->tp_mac, h->tp_snaplen,
					 sll->sll_pkttype); /* V3: slots are not kept */
				n++;
			}
			h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		w->cur = (w->cur + 1) % w->nblocks;
	}
	return n;
}

int wire_packet_recv(struct wire_packet *w, wire_rx_fn fn, void *ctx)
{
	if (!w->ring)
		return 0;
	return w->v3 ? recv_v3(w, fn, ctx) : recv_v2(w, fn, ctx, INT_MAX);
}

int wire_packet_recv_max(struct wire_packet *w, wire_rx_fn fn, void *ctx, int max)
{
	if (!w->ring)
		return 0;
	return w->v3 ? recv_v3(w, fn, ctx) : recv_v2(w, fn, ctx, max);
}

uint32_t wire_packet_slots(const struct wire_packet *w)
{
	return w->ring && !w->v3 ? w->nframes : 0;
}

uint32_t wire_packet_slot(const struct wire_packet *w, const uint8_t *frame)
{
	return (uint32_t)((size_t)(frame - w->ring) / w->frame_size);
}

void wire_packet_release(struct wire_packet *w, uint32_t slot)
{
	struct tpacket2_hdr *h = (struct tpacket2_hdr *)(w->ring + (size_t)slot * w->frame_size);

	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

long wire_packet_recv_into(struct wire_packet *w, void *buf, size_t len, int *pkttype)
{
	struct sockaddr_ll sll = { 0 };
	socklen_t sl = sizeof(sll);
	ssize_t n;

	do
		n = recvfrom(w->fd, buf, len, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&sll, &sl);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	*pkttype = sll.sll_pkttype;
	return n;
}

uint64_t wire_packet_drops(struct wire_packet *w)
{
	struct tpacket_stats_v3 st = { 0 };
	socklen_t len = sizeof(st);

	/* The kernel resets its counters on each read: keep the sum. */
	if (getsockopt(w->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		atomic_fetch_add(&w->drops, st.tp_drops);
	return atomic_load(&w->drops) + atomic_load(&w->truncated);
}

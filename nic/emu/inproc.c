/* The NIC run to completion in the application's process (see inproc.h). */
#include "inproc.h"

#include "fw/sync.h"
#include "hal/hal_emu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct inproc {
	struct nic_hal *hal;
	struct nicfw *fw;
	uint8_t *bar, *host;
	size_t bar_size, host_size;
	int memfd;
};

static int inproc_drive(void *ctx, int timeout_ms)
{
	struct inproc *ip = ctx;

	return nicfw_run(ip->fw, timeout_ms);
}

/* Stop the NIC: the program first, then its engines (which unmap the host window). */
static void inproc_release(void *ctx)
{
	struct inproc *ip = ctx;

	nicfw_destroy(ip->fw);
	if (ip->hal)
		hal_emu_destroy(ip->hal);
	if (ip->bar)
		munmap(ip->bar, ip->bar_size);
	if (ip->host)
		munmap(ip->host, ip->host_size);
	if (ip->memfd >= 0)
		close(ip->memfd);
	free(ip);
}

int snownic_inproc_open(const struct snownic_inproc_params *p, size_t mem_size,
			struct snownic **out, char *err, size_t errlen)
{
	struct hal_emu_params hp = { 0 };
	struct inproc *ip;
	struct snownic *h = NULL;
	void *host;
	int rc, barfd;

	mem_size = (mem_size + 4095) & ~(size_t)4095;
	ip = calloc(1, sizeof(*ip));
	if (!ip) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ip->memfd = -1;
	hp.ifname = p->ifname;
	hp.nicmem = p->nicmem;
	hp.ring_bytes = p->ring_bytes;
	hp.spin_ns = p->spin_ns;
	hp.spin_adapt = p->spin_adapt;
	hp.rx_direct = p->rx_direct;
	hp.tx_copy = p->tx_copy;
	hp.rx_copy = p->rx_copy;
	hp.inline_bytes = p->inline_bytes;
	hp.rx_cpu = 1;
	hp.sleep_lent = 1;
	rc = hal_emu_create(&hp, &ip->hal, err, errlen);
	if (rc)
		goto err;
	rc = nicfw_create(ip->hal, &p->cfg, &ip->fw, err, errlen);
	if (rc)
		goto err;
	ip->memfd = memfd_create("snownic-host", MFD_CLOEXEC);
	if (ip->memfd < 0 || ftruncate(ip->memfd, (off_t)mem_size) < 0) {
		rc = -errno;
		snprintf(err, errlen, "registered memory: %s", strerror(errno));
		goto err;
	}
	rc = hal_emu_host_attach(ip->hal, ip->memfd, mem_size);
	if (rc) {
		snprintf(err, errlen, "attach: %s", strerror(-rc));
		goto err;
	}
	/* The host's view of its registered memory is the HAL's own mapping of it. */
	barfd = hal_emu_memfd(ip->hal, &ip->bar_size);
	ip->bar = mmap(NULL, ip->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED, barfd, 0);
	host = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ip->memfd, 0);
	if (host != MAP_FAILED) {
		ip->host = host;
		ip->host_size = mem_size;
		nic_prefault(host, mem_size, 1); /* fresh memfd */
	}
	if (ip->bar != MAP_FAILED)
		nic_prefault(ip->bar, ip->bar_size, 0);
	if (ip->bar == MAP_FAILED || host == MAP_FAILED) {
		rc = -ENOMEM;
		snprintf(err, errlen, "mmap of NIC or registered memory failed");
		if (ip->bar == MAP_FAILED)
			ip->bar = NULL;
		goto err;
	}
	nicfw_run(ip->fw, 0); /* the program sees the host come up */
	rc = snownic_attach(ip->bar, ip->bar_size, host, mem_size, &h, err, errlen);
	if (rc)
		goto err;
	snownic_set_driver(h, inproc_drive, inproc_release, ip);
	*out = h;
	return 0;

err:
	inproc_release(ip);
	return rc;
}

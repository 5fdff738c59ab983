#include "xcvr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int xcvr_from_file(const char *root, const char *ifname, uint8_t *buf)
{
	char path[4200];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/sys/class/net/%s/device/sff8472.eeprom", root, ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENODEV;
	n = read(fd, buf, SFF8472_EEPROM_LEN);
	close(fd);
	return n == SFF8472_EEPROM_LEN ? 0 : -ENODEV;
}

static int xcvr_from_ethtool(const char *ifname, uint8_t *buf)
{
	struct ethtool_modinfo mi = { .cmd = ETHTOOL_GMODULEINFO };
	struct ethtool_eeprom *ee;
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = (void *)&mi;
	/* Most NICs (virtio, copper) have no module: that is not an error. */
	if (ioctl(fd, SIOCETHTOOL, &ifr) || mi.type != ETH_MODULE_SFF_8472 ||
	    mi.eeprom_len < SFF8472_EEPROM_LEN) {
		close(fd);
		return -ENODEV;
	}
	ee = calloc(1, sizeof(*ee) + SFF8472_EEPROM_LEN);
	if (!ee) {
		close(fd);
		return -ENOMEM;
	}
	ee->cmd = ETHTOOL_GMODULEEEPROM;
	ee->offset = 0;
	ee->len = SFF8472_EEPROM_LEN;
	ifr.ifr_data = (void *)ee;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		rc = -errno;
	else
		memcpy(buf, ee->data, SFF8472_EEPROM_LEN);
	free(ee);
	close(fd);
	return rc;
}

int xcvr_read(const char *root, const char *ifname, struct sff8472_diag *out, char *err,
	      size_t errlen)
{
	uint8_t buf[SFF8472_EEPROM_LEN];
	int rc = root && *root ? xcvr_from_file(root, ifname, buf) : xcvr_from_ethtool(ifname, buf);

	if (rc) {
		if (rc != -ENODEV)
			snprintf(err, errlen, "%s: module EEPROM: %s", ifname, strerror(-rc));
		return rc;
	}
	rc = sff8472_parse(buf, sizeof(buf), out, err, errlen);
	/* A module without (internally calibrated) diagnostics has nothing to report. */
	return rc == -EINVAL ? -ENODEV : rc;
}

int xcvr_each(const char *root, void (*fn)(void *ctx, const char *ifname,
					   const struct sff8472_diag *d),
	      void *ctx)
{
	char path[4200], err[160];
	struct sff8472_diag d;
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/sys/class/net", root && *root ? root : "");
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		if (xcvr_read(root, e->d_name, &d, err, sizeof(err)))
			continue;
		fn(ctx, e->d_name, &d);
		n++;
	}
	closedir(dir);
	return n;
}

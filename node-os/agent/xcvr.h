/*
 * Optical transceivers' SFF-8472 diagnostics: read through ethtool's module
 * EEPROM (ETHTOOL_GMODULEINFO, ETHTOOL_GMODULEEEPROM) and decoded by
 * lib/sff8472.  Under --root (tests) the 512-byte dump is read from
 * ROOT/sys/class/net/IF/device/sff8472.eeprom instead, since fixtures cannot
 * answer ioctls.
 */
#ifndef SNOW_NODE_XCVR_H
#define SNOW_NODE_XCVR_H

#include <stddef.h>

#include "sff8472.h"

/*
 * @ret 0 with out filled; -ENODEV when the interface has no module with
 * diagnostics (the usual case: virtio, copper, no ethtool support); another
 * -errno with err filled.
 */
int xcvr_read(const char *root, const char *ifname, struct sff8472_diag *out, char *err,
	      size_t errlen);

/*
 * Call fn for every interface of ROOT/sys/class/net (lo aside) whose module
 * has diagnostics.  @ret how many there were.
 */
int xcvr_each(const char *root, void (*fn)(void *ctx, const char *ifname,
					   const struct sff8472_diag *d),
	      void *ctx);

#endif

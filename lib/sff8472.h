/*
 * SFF-8472 digital diagnostics of an optical transceiver, decoded from the
 * 512 bytes Linux returns for ETHTOOL_GMODULEEEPROM (page A0h, then A2h).
 * Only internally calibrated modules are read; an externally calibrated one
 * is refused with a message (its calibration constants are not applied).
 */
#ifndef SNOW_SFF8472_H
#define SNOW_SFF8472_H

#include <stddef.h>
#include <stdint.h>

#define SFF8472_EEPROM_LEN 512

enum sff8472_item { SFF_TEMP, SFF_VCC, SFF_BIAS, SFF_TX_POWER, SFF_RX_POWER, SFF_ITEMS };

struct sff8472_reading {
	const char *name;   /* "temp_c", "vcc_v", "tx_bias_ma", "tx_power_mw", "rx_power_mw" */
	const char *unit;   /* "C", "V", "mA", "mW", "mW" */
	double value;
	/* The module's own limits: alarm outside warning. */
	double high_alarm, low_alarm, high_warn, low_warn;
};

struct sff8472_diag {
	char vendor[17];
	char part[17];
	char serial[17];
	struct sff8472_reading r[SFF_ITEMS];
};

/*
 * Decode eeprom (len bytes).  @ret 0, or -EINVAL with err saying why
 * (too short, no diagnostics implemented, externally calibrated).
 */
int sff8472_parse(const uint8_t *eeprom, size_t len, struct sff8472_diag *out, char *err,
		  size_t errlen);

#endif

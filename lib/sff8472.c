#include "sff8472.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define A2 256 /* where page A2h starts in ethtool's dump */

static unsigned sff_u16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Each item: its unit per count, signed or not, where the reading and the four limits are. */
static const struct {
	const char *name, *unit;
	double scale;
	int is_signed;
	unsigned reading, limits; /* offsets in A2h: value; high alarm, low alarm, high warn, low warn */
} sff_items[SFF_ITEMS] = {
	[SFF_TEMP] = { "temp_c", "C", 1.0 / 256, 1, 96, 0 },
	[SFF_VCC] = { "vcc_v", "V", 100e-6, 0, 98, 8 },
	[SFF_BIAS] = { "tx_bias_ma", "mA", 2e-3, 0, 100, 16 },
	[SFF_TX_POWER] = { "tx_power_mw", "mW", 1e-4, 0, 102, 24 },
	[SFF_RX_POWER] = { "rx_power_mw", "mW", 1e-4, 0, 104, 32 },
};

static double sff_value(int item, const uint8_t *p)
{
	unsigned raw = sff_u16(p);

	if (sff_items[item].is_signed)
		return (double)(int16_t)raw * sff_items[item].scale;
	return (double)raw * sff_items[item].scale;
}

static void sff_text(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : ' ';
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

int sff8472_parse(const uint8_t *e, size_t len, struct sff8472_diag *out, char *err,
		  size_t errlen)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (len < SFF8472_EEPROM_LEN) {
		snprintf(err, errlen, "eeprom: %zu bytes, an SFF-8472 dump has %d", len,
			 SFF8472_EEPROM_LEN);
		return -EINVAL;
	}
	/* A0h byte 92: diagnostic monitoring type. */
	if (!(e[92] & 0x40)) {
		snprintf(err, errlen, "eeprom: the module implements no digital diagnostics");
		return -EINVAL;
	}
	if (!(e[92] & 0x20)) {
		snprintf(err, errlen, "eeprom: externally calibrated module (not supported)");
		return -EINVAL;
	}
	sff_text(out->vendor, e + 20, 16);
	sff_text(out->part, e + 40, 16);
	sff_text(out->serial, e + 68, 16);
	for (i = 0; i < SFF_ITEMS; i++) {
		const uint8_t *lim = e + A2 + sff_items[i].limits;
		struct sff8472_reading *r = &out->r[i];
		r->name = sff_items[i].name;
		r->unit = sff_items[i].unit;
		r->value = sff_value(i, e + A2 + sff_items[i].reading);
		r->high_alarm = sff_value(i, lim);
		r->low_alarm = sff_value(i, lim + 2);
		r->high_warn = sff_value(i, lim + 4);
		r->low_warn = sff_value(i, lim + 6);
	}
	return 0;
}

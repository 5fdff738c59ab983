/*
 * Fuzz target: an optical module's EEPROM dump (lib/sff8472.c), as the agent
 * reads it from a transceiver it does not control.  Checks the decoded
 * strings are printable and terminated, every reading and limit is a finite
 * number in the range its 16 bits allow, and a refusal says why.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sff8472.h"

static void fz_text(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);

	if (!end)
		abort();
	for (; s < end; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
	if (end > s && end[-1] == ' ')
		abort();
}

static void fz_num(double v)
{
	/* 16 bits times the largest scale (1/256 C for temperature, signed) */
	if (!isfinite(v) || v < -128.0 || v > 65535 * 2e-3 + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sff8472_diag d;
	char err[256] = "";
	int i;

	if (sff8472_parse(data, size, &d, err, sizeof(err))) {
		if (!err[0] || (size >= SFF8472_EEPROM_LEN && (data[92] & 0x60) == 0x60))
			abort();
		return 0;
	}
	if (size < SFF8472_EEPROM_LEN || (data[92] & 0x60) != 0x60)
		abort();
	fz_text(d.vendor, sizeof(d.vendor));
	fz_text(d.part, sizeof(d.part));
	fz_text(d.serial, sizeof(d.serial));
	for (i = 0; i < SFF_ITEMS; i++) {
		const struct sff8472_reading *r = &d.r[i];
		if (!r->name || !r->unit)
			abort();
		fz_num(r->value);
		fz_num(r->high_alarm);
		fz_num(r->low_alarm);
		fz_num(r->high_warn);
		fz_num(r->low_warn);
	}
	return 0;
}

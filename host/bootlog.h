/*
 * A node's folder of logs kept per boot: one BOOT.log a boot, beside the
 * boot's other files (BOOT.log.1, its older half; BOOT.pstore.json), of which
 * the newest N boots are kept.  The kernel logs (klog.c, STATE/klog/NODE) and
 * the serial-over-LAN logs (bmc_sol.c, STATE/sol/NODE) keep theirs so
 * (docs/crash.md, docs/power.md: --klog-boots-keep).
 */
#ifndef SNOW_BOOTLOG_H
#define SNOW_BOOTLOG_H

#include <stddef.h>

/* What makes a boot older than another. */
enum bootlog_age {
	BOOTLOG_BY_NAME,  /* its name sorts first (names are UTC times: bmc_sol.c) */
	BOOTLOG_BY_MTIME, /* its BOOT.log changed last earlier (names are boot ids: klog.c) */
};

/*
 * Keep the newest keep boots in dir, oldest first by age, and always current
 * (NULL or "": none spared), which a clock set back may put below older ones.
 * A boot is a file BOOT.log (BOOT not starting with '.'); its companions, the
 * suffixes in companions (NULL-terminated, may be NULL: ".log.1" names
 * BOOT.log.1), are removed with it.  Other files are neither counted nor
 * touched.  @ret the boots removed, or -errno when dir cannot be read or
 * -ENOMEM (nothing removed then).
 */
int bootlog_prune(const char *dir, const char *current, long keep, enum bootlog_age age,
		  const char *const *companions);

/*
 * Into boot (cap bytes): the newest boot in dir by name (boots whose names do
 * not fit in cap are passed over).  @ret 0, -ENOENT when there is none (boot
 * ""), or -errno when dir cannot be read (boot "").
 */
int bootlog_newest(const char *dir, char *boot, size_t cap);

#endif

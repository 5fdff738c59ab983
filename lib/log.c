#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* The one piece of process-wide state in lib/: set once at start-up. */
static char log_prefix[32] = "snow";
static enum log_level log_level = LOG_LVL_INFO;

void log_init(const char *prefix, enum log_level level)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
	log_level = level;
}

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

static void log_vemit(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char msg[1024];
	int64_t ms;
	time_t s;
	struct tm tm;

	if (lvl > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ms = clock_real_ms();
	s = (time_t)(ms / 1000);
	localtime_r(&s, &tm);
	if (err)
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s]: %s: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, (long)(ms % 1000), log_prefix, names[lvl], msg, strerror(err));
	else
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s]: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, (long)(ms % 1000), log_prefix, names[lvl], msg);
}

#define LOG_BODY(lvl, err)                                                                         \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vemit(lvl, err, fmt, ap);                                                      \
		va_end(ap);                                                                        \
	} while (0)

void log_warn(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LVL_WARN, e);
}
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }

void fatal(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LVL_ERR, e);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, 0);
	exit(1);
}

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"

/* The one piece of process-wide state in lib/: set once at start-up. */
static char log_prefix[32] = "snow";
static enum log_level log_level = LOG_LVL_INFO;
static void (*log_sink)(int prio, const char *line); /* log_set_sink() */
static int log_journal; /* stderr is systemd's journal: "<N>" levels, no clock */

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr goes to
 * the journal.  It is ours only when stderr is still that stream (a child
 * with stderr redirected inherits the variable too).
 */
static int log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *prefix, enum log_level level)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
	log_level = level;
	log_journal = log_stderr_is_journal();
}

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

/*
 * Bytes that are not printable text: C0 controls, DEL, and bytes that are not
 * part of well-formed UTF-8 or encode a C1 control (U+0080..U+009F, which some
 * terminals obey as escape sequences).  @ret how many bytes at s form one
 * printable character, or 0 when s[0] must be escaped.
 */
static size_t log_printable(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (*s >= 0x20 && *s < 0x7f)
		return 1;
	if (*s < 0xc2 || *s > 0xf4)
		return 0;
	n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
	cp = *s & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, and C1 controls. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

size_t log_escape(char *dst, size_t cap, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = 0, n;

	if (!cap)
		return 0;
	while (*s) {
		n = log_printable(s);
		if (!n) {
			if (len + 4 >= cap)
				break;
			snprintf(dst + len, 5, "\\x%02x", *s);
			len += 4;
			s++;
			continue;
		}
		if (len + n >= cap)
			break;
		memcpy(dst + len, s, n);
		len += n;
		s += n;
	}
	dst[len] = '\0';
	return len;
}

void log_set_sink(void (*sink)(int prio, const char *line))
{
	log_sink = sink;
}

static void log_vemit(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	/* syslog's priorities (sd-daemon.h's SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG). */
	static const int prio[] = { 3, 4, 6, 7 };
	char msg[1024], out[4 * sizeof(msg)];
	int64_t ms;
	time_t s;
	struct tm tm;

	if (lvl > log_level)
		return;
	/*
	 * Messages carry names, hostnames, versions and URLs from outside: one
	 * with a newline in it must not forge a line of its own, nor an escape
	 * sequence reach the terminal.  Format strings hold no newlines.
	 */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_escape(out, sizeof(out), msg);
	if (log_sink) {
		char line[sizeof(out) + 160];

		if (err)
			snprintf(line, sizeof(line), "%s: %s", out, strerror(err));
		else
			snprintf(line, sizeof(line), "%s", out);
		log_sink(prio[lvl], line);
		return;
	}
	if (log_journal) {
		/* The journal stamps the time and the program; the level goes in front. */
		if (err)
			fprintf(stderr, "<%d>%s: %s\n", prio[lvl], out, strerror(err));
		else
			fprintf(stderr, "<%d>%s\n", prio[lvl], out);
		return;
	}
	ms = clock_real_ms();
	s = (time_t)(ms / 1000);
	localtime_r(&s, &tm);
	if (err)
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s]: %s: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, (long)(ms % 1000), log_prefix, names[lvl], out, strerror(err));
	else
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s]: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, (long)(ms % 1000), log_prefix, names[lvl], out);
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

/*
 * Logging for every Snow program: stderr, one line per message, with the
 * program's prefix and a level.  Under systemd with stderr on the journal
 * (JOURNAL_STREAM), each line starts with its syslog priority instead ("<3>"
 * error ... "<7>" debug) and the journal adds the time and the program.  log_warn() appends strerror(errno);
 * log_warnx() does not.  Never pass a secret to any of these.
 *
 * What is written is escaped (log_escape): names, hostnames and URLs from
 * outside may be passed as they came, a newline in them cannot forge a line.
 */
#ifndef SNOW_LOG_H
#define SNOW_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Set the prefix (copied, up to 31 bytes) and the most verbose level shown. */
void log_init(const char *prefix, enum log_level level);
void log_set_level(enum log_level level);
/*
 * Hand each line (escaped, without the prefix, the time or a newline) with
 * its syslog priority to sink instead of stderr: for code running inside
 * another program's log (the snmpd module).  NULL: stderr again.
 */
void log_set_sink(void (*sink)(int prio, const char *line));
enum log_level log_get_level(void);

/*
 * Copy src to dst (cap bytes, NUL-terminated, cut at a whole character), with
 * control characters (C0, DEL, C1) and bytes that are not well-formed UTF-8
 * written as \xNN.  @ret the length written.
 */
size_t log_escape(char *dst, size_t cap, const char *src);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1).  Only for main programs, never for library code. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

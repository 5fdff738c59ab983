/*
 * A growable byte buffer.  The struct is the owner of data; buf_free()
 * releases it.  Every append keeps data NUL-terminated (not counted in len)
 * so text can be used as a C string.
 */
#ifndef SNOW_BUF_H
#define SNOW_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Make room for extra more bytes.  @ret 0 or -ENOMEM. */
int buf_reserve(struct buf *b, size_t extra);
/* @ret 0 or -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (who frees them with free()) and reset b. */
char *buf_steal(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif

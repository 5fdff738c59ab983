/*
 * Base64 (RFC 4648, the standard alphabet with '=' padding): binary records
 * inside JSON, e.g. a node's pstore upload (docs/crash.md).
 */
#ifndef SNOW_B64_H
#define SNOW_B64_H

#include <stddef.h>

/* Characters b64_encode() writes for n bytes, without the NUL. */
#define B64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * Encode n bytes of in into out, which holds B64_LEN(n) + 1 characters
 * (NUL-terminated).  @ret the length written.
 */
size_t b64_encode(const void *in, size_t n, char *out);

/*
 * Decode len characters of in (padded, no white space) into out, which holds
 * at least len / 4 * 3 bytes.  @ret the bytes decoded, or -1 when in is not
 * base64 (a bad character, a length not a multiple of 4, padding inside, or
 * bits set in the padding).
 */
long b64_decode(const char *in, size_t len, unsigned char *out);

#endif

/*
 * Parsing of the small identifiers that come from outside (command lines,
 * HTTP bodies, config files): node names, MAC addresses, IPv4 addresses.
 * Each parser takes the raw text, checks length and form, and on error
 * writes a message naming what was wrong into err (if not NULL).
 */
#ifndef SNOW_VALID_H
#define SNOW_VALID_H

#include <stddef.h>
#include <stdint.h>

#define SNOW_NAME_MAX 63
#define SNOW_MAC_STRLEN 17 /* "aa:bb:cc:dd:ee:ff" */

/*
 * A node/profile/image name: 1..63 characters of [a-z0-9-], starting with a
 * letter and not ending with '-' (a valid DNS label, so it can be a hostname).
 * @ret 0, or -EINVAL with err filled.
 */
int valid_name(const char *s, char *err, size_t errlen);

/*
 * Parse a MAC address written as six hex octets separated by ':' or '-'
 * (either case).  Unicast only.  out receives the canonical lowercase
 * colon form (18 bytes with the NUL).
 * @ret 0, or -EINVAL with err filled.
 */
int valid_mac(const char *s, char out[SNOW_MAC_STRLEN + 1], char *err, size_t errlen);

/*
 * Parse a dotted-quad IPv4 address (no leading zeros, no shorthand).
 * out (host byte order) may be NULL.
 * @ret 0, or -EINVAL with err filled.
 */
int valid_ipv4(const char *s, uint32_t *out, char *err, size_t errlen);

/*
 * Parse a decimal number of at most 19 digits (no sign, no spaces), so it
 * also fits an int64_t.  @ret 0, or -EINVAL.
 */
int valid_u64(const char *s, uint64_t *out);

/* Format a host-order IPv4 address into buf (at least 16 bytes). */
void ipv4_format(uint32_t ip, char buf[16]);

#endif

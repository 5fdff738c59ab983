/*
 * The netconsole datagram: what a node's kernel sends snowd's UDP port
 * (docs/crash.md).  Two forms, told apart by their start:
 *   extended ("+" in netconsole=):  LEVEL,SEQ,USEC,FLAGS[,ncfrag=OFF/LEN];TEXT\n
 *                                   followed by " KEY=VALUE" lines (dropped)
 *   plain:                          the text as printk wrote it, lines or parts
 *                                   of a line (no header)
 * Outside input: parsed here and nowhere else, length-checked, and
 * tests/fuzz/klogp.c holds it to what this header says.
 */
#ifndef SNOW_KLOGP_H
#define SNOW_KLOGP_H

#include <stddef.h>
#include <stdint.h>

/* The longest datagram read; more is cut (netconsole sends at most 1000 bytes of text). */
#define KLOGP_MAX 2048

struct klogp_msg {
	int ext;            /* extended form: level, seq, usec and frag are set */
	int level;          /* 0..7 (the facility bits dropped) */
	uint64_t seq;       /* the kernel's record number: restarts with a new kernel */
	uint64_t usec;      /* since that kernel started */
	int frag;           /* a fragment of a long record: frag_off of frag_len bytes */
	size_t frag_off, frag_len;
	/*
	 * The text, borrowed from the datagram: for the extended form the first
	 * line only, without its newline.  It may hold any byte: klogp_clean()
	 * makes a line of it for a log file.
	 */
	const char *text;
	size_t text_len;
};

/*
 * Parse one datagram of len bytes (len <= KLOGP_MAX).  @ret 0 with m filled,
 * or -EINVAL for an empty datagram or an extended header out of range (the
 * level over 1023, a number that does not fit, a fragment past its record).
 */
int klogp_parse(const char *buf, size_t len, struct klogp_msg *m);

/*
 * Copy text into out (cap >= 1 bytes, always terminated) fit for a text file
 * and a JSON string: bytes below 0x20 but tab and newline, and 0x7f, become
 * '?'; bytes over 0x7f are kept only as whole UTF-8 sequences, else '?'.
 * @ret the length written.
 */
size_t klogp_clean(const char *text, size_t len, char *out, size_t cap);

#endif

/*
 * Fuzz target: image archives' JSON and names (node-os/oci/oci.c).  The
 * input goes to every parser: index.json, an image manifest, docker's
 * manifest.json, then the config of what was parsed; and, as a string, to
 * oci_entry_path() and oci_link_target() (depth from the first byte).
 * Checks: whatever is accepted is well formed (digests sha256:HEX, blob
 * paths named by them, at most OCI_MAX_LAYERS); a clean entry name has no
 * "..", ".", empty or absolute part and cleans to itself; a link target
 * accepted never climbs above the root from its depth.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"

static void fz_blob(const struct oci_blob *b, int named)
{
	if (strlen(b->digest) != OCI_DIGEST_LEN || strncmp(b->digest, "sha256:", 7) ||
	    strspn(b->digest + 7, "0123456789abcdef") != 64) {
		fprintf(stderr, "bad digest '%s'\n", b->digest);
		abort();
	}
	if (named && (strncmp(b->path, "blobs/sha256/", 13) || strcmp(b->path + 13, b->digest + 7))) {
		fprintf(stderr, "blob path '%s' is not its digest's\n", b->path);
		abort();
	}
}

/* A cleaned name: no empty, ".", ".." part, no leading '/'. */
static void fz_clean(const char *p)
{
	const char *s = p, *e;

	if (!*p)
		return;
	for (;;) {
		e = strchrnul(s, '/');
		if (e == s || (e - s == 1 && *s == '.') || (e - s == 2 && !strncmp(s, "..", 2))) {
			fprintf(stderr, "unclean name '%s'\n", p);
			abort();
		}
		if (!*e)
			break;
		s = e + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oci_image img;
	struct oci_blob b;
	char err[400], out[8192], again[8192];
	char *s = malloc(size + 1);
	int nested, depth, d;
	size_t i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!oci_parse_index((const char *)data, size, &b, &nested, err, sizeof(err)))
		fz_blob(&b, 1);
	if (!oci_parse_manifest((const char *)data, size, &img, err, sizeof(err))) {
		if (!img.nlayers || img.nlayers > OCI_MAX_LAYERS)
			abort();
		fz_blob(&img.config, 1);
		for (i = 0; i < img.nlayers; i++)
			fz_blob(&img.layers[i], 1);
		oci_parse_config((const char *)data, size, &img, err, sizeof(err));
	}
	if (!oci_parse_docker((const char *)data, size, &img, err, sizeof(err))) {
		fz_blob(&img.config, 0);
		for (i = 0; i < img.nlayers; i++)
			fz_clean(img.layers[i].path);
		if (!oci_parse_config((const char *)data, size, &img, err, sizeof(err)))
			for (i = 0; i < img.nlayers; i++)
				fz_blob(&img.layers[i], 0);
	}
	if (!oci_entry_path(s, out, sizeof(out), err, sizeof(err))) {
		fz_clean(out);
		if (oci_entry_path(out, again, sizeof(again), err, sizeof(err)) || strcmp(out, again)) {
			fprintf(stderr, "'%s' cleans to '%s', then to '%s'\n", s, out, again);
			abort();
		}
	}
	depth = size ? data[0] % 8 : 0;
	if (size && !oci_link_target(s + 1, depth, out, sizeof(out), err, sizeof(err))) {
		/* Walk it from depth: it must stay at or below the root. */
		const char *p = out, *e;
		if (out[0] == '/') {
			fprintf(stderr, "'%s' stayed absolute: '%s'\n", s + 1, out);
			abort();
		}
		for (d = depth; *p; p = *e ? e + 1 : e) {
			e = strchrnul(p, '/');
			if (e - p == 2 && !strncmp(p, "..", 2))
				d--;
			else if (e > p && !(e - p == 1 && *p == '.'))
				d++;
			if (d < 0) {
				fprintf(stderr, "'%s' at depth %d climbs out: '%s'\n", s + 1, depth, out);
				abort();
			}
		}
	}
	free(s);
	return 0;
}

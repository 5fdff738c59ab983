/*
 * The main() of a replay binary (tests/fuzz/fuzz.mk): feeds each file named
 * on the command line, and each file of each directory named (sorted, dot
 * files skipped), to the target's LLVMFuzzerTestOneInput(), as libFuzzer
 * would, so `make check` runs every corpus file under ASan/UBSan without
 * clang.  Each input sits in a buffer of exactly its size, so reading past
 * it is caught.  Exits 1 when a file cannot be read; a sanitizer report
 * aborts the process.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int main(int argc, char **argv);

/* Read all of path into a new buffer (the caller frees it).  @ret 0 or -errno. */
static int replay_read(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL, *grown;
	size_t n = 0, cap = 0, r;

	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			grown = realloc(p, cap);
			if (!grown) {
				free(p);
				fclose(f);
				return -ENOMEM;
			}
			p = grown;
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		free(p);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* Exactly n bytes (at least 1 for malloc), so an overread is an ASan report. */
	*out = malloc(n ? n : 1);
	if (!*out) {
		free(p);
		return -ENOMEM;
	}
	memcpy(*out, p, n);
	free(p);
	*len = n;
	return 0;
}

static int replay_file(const char *path, unsigned *count)
{
	uint8_t *data;
	size_t len;
	int rc = replay_read(path, &data, &len);

	if (rc) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-rc));
		return rc;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	(*count)++;
	return 0;
}

static int replay_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int i, bad = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct dirent **ents;
		struct stat st;
		int n, k;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= replay_file(argv[i], &count) != 0;
			continue;
		}
		n = scandir(argv[i], &ents, replay_dot, replay_name_cmp);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		for (k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
			if (!stat(path, &st) && S_ISREG(st.st_mode))
				bad |= replay_file(path, &count) != 0;
			free(ents[k]);
		}
		free(ents);
	}
	printf("replay: %u inputs\n", count);
	return bad;
}

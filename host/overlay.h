/*
 * The admin's overlay templates (snowd.conf overlay-dir, default
 * /etc/snow/overlay.d/): every regular file below the folder is a template
 * of the file at the same path on a whole-system node, rendered per node
 * with tmpl_render() ({{name}}, {{mac}}, {{ip}}, {{image}}, {{profile}},
 * {{host_url}}) into the node's overlay (boot.c).  Read when snowd starts
 * and on SIGHUP; a template with a placeholder that has no value is refused
 * then, naming the file, so no node boots with half its files.
 */
#ifndef SNOW_OVERLAY_H
#define SNOW_OVERLAY_H

#include <stddef.h>

#define OVERLAY_MAX_FILES 256
#define OVERLAY_MAX_BYTES (64 * 1024) /* one template */
#define OVERLAY_MAX_DEPTH 8

/* The names a template may use, in the order boot.c gives their values. */
#define OVERLAY_VARS { "name", "mac", "ip", "image", "profile", "host_url" }
#define OVERLAY_NVARS 6

struct overlay_file {
	char *path;    /* owned: relative to the folder and to the node's root, "etc/motd" */
	char *text;    /* owned: the template, NUL-terminated */
	unsigned mode; /* 0644, or 0755 when the template is executable */
};

struct overlay_set {
	struct overlay_file *files; /* owned, sorted by path */
	size_t n;
};

/*
 * Read every template below dir into set (emptied first).  A missing dir is
 * an empty set.  Files are opened with fsafe_open() below dir only (symlinks
 * that lead out are refused), names starting with '.' are skipped.
 * @ret 0, or -errno with err naming the file and the reason (set then empty).
 */
int overlay_load(const char *dir, struct overlay_set *set, char *err, size_t errlen);

void overlay_free(struct overlay_set *set);

#endif

/*
 * snowctl image add NAME --kernel PATH --initrd PATH [--rootfs PATH]
 * snowctl image list
 * snowctl image rm NAME[@VERSION]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snowctl.h"

static int ctl_image_add(struct ctl *c, int argc, char **argv)
{
	char kabs[PATH_MAX], iabs[PATH_MAX], rabs[PATH_MAX];
	json_t *body, *r;
	int a;

	if (!((argc == 6 || (argc == 8 && !strcmp(argv[6], "--rootfs"))) &&
	      !strcmp(argv[2], "--kernel") && !strcmp(argv[4], "--initrd"))) {
		fprintf(stderr, "snowctl: usage: image add NAME --kernel PATH --initrd PATH [--rootfs PATH]\n");
		return 2;
	}
	/* Paths are read by snowd: make them absolute for it. */
	for (a = 3; a < argc; a += 2) {
		char *abs = a == 3 ? kabs : a == 5 ? iabs : rabs;
		if (!realpath(argv[a], abs)) {
			fprintf(stderr, "snowctl: image add: %s %s: %s\n", argv[a - 1], argv[a],
				strerror(errno));
			return 2;
		}
	}
	body = json_pack("{s:s, s:s, s:s}", "name", argv[1], "kernel", kabs, "initrd", iabs);
	if (body && argc == 8)
		json_object_set_new(body, "rootfs", json_string(rabs));
	if (ctl_call(c, "POST", "/api/v1/images", body, &r)) {
		json_decref(body);
		return 1;
	}
	json_decref(body);
	printf("image %s version %s registered\n", ctl_str(r, "name"), ctl_str(r, "version"));
	json_decref(r);
	return 0;
}

static int ctl_image_list(struct ctl *c)
{
	json_t *r, *im;
	size_t k;

	if (ctl_call(c, "GET", "/api/v1/images", NULL, &r))
		return 1;
	if (c->json) {
		ctl_print_json(json_object_get(r, "images"));
	} else {
		printf("%-16s %-17s %10s %10s\n", "NAME", "VERSION", "KERNEL", "INITRD");
		json_array_foreach(json_object_get(r, "images"), k, im)
			printf("%-16s %-17s %10lld %10lld\n", ctl_str(im, "name"), ctl_str(im, "version"),
			       (long long)json_integer_value(json_object_get(im, "kernel_size")),
			       (long long)json_integer_value(json_object_get(im, "initrd_size")));
	}
	json_decref(r);
	return 0;
}

/* snowd refuses (409) while a node or profile uses the image, naming them. */
static int ctl_image_rm(struct ctl *c, const char *ref)
{
	char path[400];
	json_t *r, *v;
	size_t k;

	if (strlen(ref) > 200 || strchr(ref, '/') || strchr(ref, '?')) {
		fprintf(stderr, "snowctl: image rm: '%.64s' is not NAME or NAME@VERSION\n", ref);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/images/%s", ref);
	if (ctl_call(c, "DELETE", path, NULL, &r))
		return c->status == 404 ? 3 : 1;
	if (c->json) {
		ctl_print_json(r);
	} else {
		json_array_foreach(json_object_get(r, "removed"), k, v)
			printf("image %s version %s removed\n", ctl_str(r, "name"), json_string_value(v));
	}
	json_decref(r);
	return 0;
}

int ctl_image(struct ctl *c, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "add"))
		return ctl_image_add(c, argc, argv);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return ctl_image_list(c);
	if (argc == 2 && !strcmp(argv[0], "rm"))
		return ctl_image_rm(c, argv[1]);
	fprintf(stderr, "snowctl: usage: image add|list|rm (snowctl --help)\n");
	return 2;
}

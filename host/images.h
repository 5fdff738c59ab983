/*
 * Registered images: a kernel and a base initramfs (and for a whole-system
 * image its rootfs.squashfs) copied into STATE/registry/NAME/VERSION/, VERSION
 * being the first 16 hex digits of their SHA-256.  A node's script names NAME@VERSION, so
 * registering a new build never changes the files of a boot already under
 * way; the newest IMAGES_KEEP versions of each image are kept.
 * An unregistered NAME is served from --image-dir/NAME/ as it is (the layout
 * snow-mkimage --out writes).
 */
#ifndef SNOW_IMAGES_H
#define SNOW_IMAGES_H

#include <stddef.h>

#include <jansson.h>

#include "inv.h"

#define IMAGES_KEEP 3

struct snowd;

/*
 * Copy kernel and initrd (paths on this host), and a whole-system image's
 * rootfs.squashfs when rootfs is not NULL, in as a new version of name.
 * @ret 0 with version filled, or -errno with err naming the field.
 */
int images_register(struct snowd *sd, const char *name, const char *kernel, const char *initrd,
		    const char *rootfs, char version[INV_VERSION_LEN + 1], char *err,
		    size_t errlen);

/*
 * The path of FILE (vmlinuz, initrd, or rootfs.squashfs of a whole-system
 * image: snow-image) for "NAME" or "NAME@VERSION".
 * @ret 0, or -ENOENT when there is no such image or version.
 */
int images_path(struct snowd *sd, const char *ref, const char *file, char *out, size_t cap);

/*
 * What a script should name for image name: "NAME@VERSION" when registered,
 * else "NAME".  @ret 0 or -EIO.
 */
int images_ref(struct snowd *sd, const char *name, char *out, size_t cap);

/*
 * Forget "NAME" (every version) or "NAME@VERSION" and delete its files in
 * the registry.  Refused while a node, a profile or the default settings
 * boot it (a bare NAME boots its newest version): err names them.
 * @ret 0 with *removed a new array of the versions removed (the caller
 * decrefs); -EINVAL, -ENOENT (not registered), -EBUSY (in use), -EIO.
 */
int images_remove(struct snowd *sd, const char *ref, json_t **removed, char *err, size_t errlen);

#endif
